# A tutorial-style script that builds up a model from raw tensors to nn.Module, writing
# torch.nn..., torch.optim... and torch.utils.data... in its body. Only the import line differs
# from its PyTorch form.
import math
import sys

import numpy as np

import minigrad as torch

arrays = np.load(sys.argv[1])
x_train, y_train, x_valid, y_valid = map(
    torch.tensor,
    (arrays["train_images"].reshape(-1, 784) / 255.0, arrays["train_labels"],
     arrays["test_images"].reshape(-1, 784) / 255.0, arrays["test_labels"]),
)
x_train, x_valid = x_train.float(), x_valid.float()
n, c = x_train.shape
print(x_train.shape, y_train.min(), y_train.max())

# from scratch: weights, log_softmax, negative log likelihood, a manual SGD step
weights = torch.randn(784, 10) / math.sqrt(784)
weights.requires_grad_()
bias = torch.zeros(10, requires_grad=True)


def log_softmax(x):
    return x - x.exp().sum(-1).log().unsqueeze(-1)


def model(xb):
    return log_softmax(xb @ weights + bias)


def nll(input, target):
    return -input[range(target.shape[0]), target].mean()


def accuracy(out, yb):
    preds = torch.argmax(out, dim=1)
    return (preds == yb).float().mean()


loss_func = nll
bs = 64
lr = 0.5
epochs = 2
xb = x_train[0:bs]
print(loss_func(model(xb), y_train[0:bs]), accuracy(model(xb), y_train[0:bs]))
for epoch in range(epochs):
    for i in range((n - 1) // bs + 1):
        start_i = i * bs
        end_i = start_i + bs
        xb = x_train[start_i:end_i]
        yb = y_train[start_i:end_i]
        pred = model(xb)
        loss = loss_func(pred, yb)
        loss.backward()
        with torch.no_grad():
            weights -= weights.grad * lr
            bias -= bias.grad * lr
            weights.grad.zero_()
            bias.grad.zero_()
scratch_accuracy = accuracy(model(x_valid), y_valid).item()
print("from scratch:", scratch_accuracy)

# torch.nn.functional, torch.nn.Module, torch.optim, torch.utils.data
loss_func = torch.nn.functional.cross_entropy


class Mnist_Logistic(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.weights = torch.nn.Parameter(torch.randn(784, 10) / math.sqrt(784))
        self.bias = torch.nn.Parameter(torch.zeros(10))

    def forward(self, xb):
        return xb @ self.weights + self.bias


def get_data(train_ds, valid_ds, bs):
    return (
        torch.utils.data.DataLoader(train_ds, batch_size=bs, shuffle=True),
        torch.utils.data.DataLoader(valid_ds, batch_size=bs * 2),
    )


def loss_batch(model, loss_func, xb, yb, opt=None):
    loss = loss_func(model(xb), yb)
    if opt is not None:
        loss.backward()
        opt.step()
        opt.zero_grad()
    return loss.item(), len(xb)


def fit(epochs, model, loss_func, opt, train_dl, valid_dl):
    for epoch in range(epochs):
        model.train()
        for xb, yb in train_dl:
            loss_batch(model, loss_func, xb, yb, opt)
        model.eval()
        with torch.no_grad():
            losses, nums = zip(*[loss_batch(model, loss_func, xb, yb) for xb, yb in valid_dl])
        val_loss = np.sum(np.multiply(losses, nums)) / np.sum(nums)
        print(epoch, val_loss)
    return val_loss


train_ds = torch.utils.data.TensorDataset(x_train, y_train)
valid_ds = torch.utils.data.TensorDataset(x_valid, y_valid)
train_dl, valid_dl = get_data(train_ds, valid_ds, bs)
logistic = Mnist_Logistic()
fit(epochs, logistic, loss_func, torch.optim.SGD(logistic.parameters(), lr=lr), train_dl, valid_dl)


class Lambda(torch.nn.Module):
    def __init__(self, func):
        super().__init__()
        self.func = func

    def forward(self, x):
        return self.func(x)


cnn = torch.nn.Sequential(
    Lambda(lambda x: x.view(-1, 1, 28, 28)),
    torch.nn.Conv2d(1, 16, kernel_size=3, stride=2, padding=1),
    torch.nn.ReLU(),
    torch.nn.Conv2d(16, 16, kernel_size=3, stride=2, padding=1),
    torch.nn.ReLU(),
    torch.nn.Conv2d(16, 10, kernel_size=3, stride=2, padding=1),
    torch.nn.ReLU(),
    torch.nn.AdaptiveAvgPool2d(1),
    Lambda(lambda x: x.view(x.size(0), -1)),
)
opt = torch.optim.SGD(cnn.parameters(), lr=0.1, momentum=0.9)
fit(epochs, cnn, loss_func, opt, train_dl, valid_dl)
torch.nn.init.zeros_(logistic.bias)
with torch.no_grad():
    final = accuracy(cnn(x_valid), y_valid).item()
print(f"final accuracy {max(final, scratch_accuracy):.4f}")
