# A script that picks its device the usual ways (cuda, mps, accelerator) and moves the model and
# every batch there. Only the import lines differ from its PyTorch form.
import sys

import numpy as np

import minigrad as torch
from minigrad import nn

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")
if torch.backends.mps.is_available():
    device = torch.device("mps")
accel = (torch.accelerator.current_accelerator().type
         if torch.accelerator.is_available() else "cpu")
assert str(device) == "cpu" and accel == "cpu", (device, accel)
print(f"Using {device} device, {torch.cuda.device_count()} GPUs")
torch.backends.cudnn.benchmark = True

arrays = np.load(sys.argv[1])
x = torch.from_numpy(arrays["train_images"]).float().div(255).to(device)
y = torch.from_numpy(arrays["train_labels"]).long().to(device)


class NeuralNetwork(nn.Module):
    def __init__(self):
        super().__init__()
        self.flatten = nn.Flatten()
        self.linear_relu_stack = nn.Sequential(
            nn.Linear(28 * 28, 128),
            nn.ReLU(),
            nn.Linear(128, 10),
        )

    def forward(self, x):
        x = self.flatten(x)
        logits = self.linear_relu_stack(x)
        return logits


model = NeuralNetwork().to(device)
print(model)
loss_fn = nn.CrossEntropyLoss()
optimizer = torch.optim.SGD(model.parameters(), lr=1e-1)
dataset = torch.utils.data.TensorDataset(x, y)
loader = torch.utils.data.DataLoader(dataset, batch_size=32, shuffle=True)
for epoch in range(3):
    model.train()
    for batch, (X, t) in enumerate(loader):
        X, t = X.to(device), t.to(device)
        pred = model(X)
        loss = loss_fn(pred, t)
        loss.backward()
        optimizer.step()
        optimizer.zero_grad()
model.eval()
with torch.no_grad():
    logits = model(x.to(device))
    pred_probab = nn.Softmax(dim=1)(logits)
    y_pred = pred_probab.argmax(1)
    correct = (y_pred == y).type(torch.float).sum().item()
assert logits.device == device and logits.device.type == "cpu"
print(f"final accuracy {correct / len(y):.4f}")
