# Saving and loading a whole model and a state_dict, as PyTorch >= 2.6 does it: the safe
# default loads tensors only; unpickling a whole model needs weights_only=False. Only the import
# lines differ from its PyTorch form.
import sys

import minigrad as torch
import minigrad.nn as nn
import minigrad.optim as optim


class TheModelClass(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 6, 5)
        self.pool = nn.MaxPool2d(2, 2)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = self.pool(torch.nn.functional.relu(self.conv1(x)))
        x = self.pool(torch.nn.functional.relu(self.conv2(x)))
        x = x.view(-1, 16 * 5 * 5)
        x = torch.nn.functional.relu(self.fc1(x))
        x = torch.nn.functional.relu(self.fc2(x))
        return self.fc3(x)


if __name__ == "__main__":
    folder = sys.argv[1]
    torch.manual_seed(0)
    model = TheModelClass()
    optimizer = optim.SGD(model.parameters(), lr=0.001, momentum=0.9)
    inputs = torch.randn(4, 3, 32, 32)
    loss = model(inputs).sum()
    loss.backward()
    optimizer.step()

    print("Model's state_dict:")
    for param_tensor in model.state_dict():
        print(param_tensor, "\t", model.state_dict()[param_tensor].size())
    print("Optimizer's state_dict:")
    for var_name in optimizer.state_dict():
        print(var_name, "\t", optimizer.state_dict()[var_name])

    # the state_dict way
    torch.save(model.state_dict(), f"{folder}/weights.pth")
    restored = TheModelClass()
    restored.load_state_dict(torch.load(f"{folder}/weights.pth", weights_only=True))
    restored.eval()

    # a general checkpoint
    torch.save({"epoch": 3, "model_state_dict": model.state_dict(),
                "optimizer_state_dict": optimizer.state_dict(), "loss": loss.item()},
               f"{folder}/checkpoint.tar")
    checkpoint = torch.load(f"{folder}/checkpoint.tar", weights_only=True)
    again = TheModelClass()
    again_opt = optim.SGD(again.parameters(), lr=0.001, momentum=0.9)
    again.load_state_dict(checkpoint["model_state_dict"])
    again_opt.load_state_dict(checkpoint["optimizer_state_dict"])
    assert checkpoint["epoch"] == 3

    # the whole model: pickled, so loading it is an explicit opt-in
    torch.save(model, f"{folder}/model.pth")
    try:
        torch.load(f"{folder}/model.pth")
    except Exception as error:  # the safe default refuses to unpickle
        print("refused:", type(error).__name__)
    else:
        raise SystemExit("a pickled model loaded without weights_only=False")
    whole = torch.load(f"{folder}/model.pth", weights_only=False)
    whole.eval()
    model.eval()
    with torch.no_grad():
        same = [torch.equal(m(inputs), model(inputs)) for m in (restored, again, whole)]
    print("identical outputs:", same)
    assert all(same)
