"""The benchmark zoo's architectures, shared by bench/make_zoo.py (benchmarks) and tests/models/check_pytorch_zoo.py
(the end-to-end correctness test): torchvision's ImageNet models plus local definitions of the small ones.

Runs with Debian's python3-torch (1.13) and python3-torchvision (0.14); nothing is downloaded.
"""
import torch
import torch.nn as nn

IMAGENET = (3, 224, 224)


class MobileNetV1(nn.Module):
    """MobileNetV1 (Howard et al. 2017): depthwise-separable conv blocks, width 1.0."""

    def __init__(self, num_classes=1000):
        super().__init__()

        def conv_bn(inp, out, stride):
            return nn.Sequential(nn.Conv2d(inp, out, 3, stride, 1, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True))

        def conv_dw(inp, out, stride):
            return nn.Sequential(
                nn.Conv2d(inp, inp, 3, stride, 1, groups=inp, bias=False), nn.BatchNorm2d(inp), nn.ReLU(inplace=True),
                nn.Conv2d(inp, out, 1, 1, 0, bias=False), nn.BatchNorm2d(out), nn.ReLU(inplace=True))

        cfg = [(32, 64, 1), (64, 128, 2), (128, 128, 1), (128, 256, 2), (256, 256, 1), (256, 512, 2)] + \
              [(512, 512, 1)] * 5 + [(512, 1024, 2), (1024, 1024, 1)]
        layers = [conv_bn(3, 32, 2)] + [conv_dw(i, o, s) for i, o, s in cfg]
        self.features = nn.Sequential(*layers)
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(1024, num_classes)

    def forward(self, x):
        x = self.pool(self.features(x))
        return self.fc(torch.flatten(x, 1))


class SvhnCnn(nn.Module):
    """An SVHN-style digit classifier: three conv blocks on 32x32 RGB (two 3x3 conv+BN+ReLU, 2x2 max pool each),
    then two fully-connected layers."""

    def __init__(self, num_classes=10):
        super().__init__()
        blocks = []
        channels = 3
        for width in (32, 64, 128):
            blocks += [nn.Conv2d(channels, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
                       nn.Conv2d(width, width, 3, padding=1), nn.BatchNorm2d(width), nn.ReLU(inplace=True),
                       nn.MaxPool2d(2)]
            channels = width
        self.features = nn.Sequential(*blocks)
        self.classifier = nn.Sequential(nn.Flatten(), nn.Linear(128 * 4 * 4, 512), nn.ReLU(inplace=True),
                                        nn.Dropout(0.3), nn.Linear(512, num_classes))

    def forward(self, x):
        return self.classifier(self.features(x))


class LeNet5(nn.Module):
    """LeNet-5 on 1x32x32: C1 (6@5x5) - S2 - C3 (16@5x5) - S4 - F5 (120) - F6 (84) - 10, tanh and average pooling as
    in the 1998 paper (C3's partial connection table is replaced by a full one, as usual today)."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 6, 5)
        self.conv2 = nn.Conv2d(6, 16, 5)
        self.fc1 = nn.Linear(16 * 5 * 5, 120)
        self.fc2 = nn.Linear(120, 84)
        self.fc3 = nn.Linear(84, 10)

    def forward(self, x):
        x = nn.functional.avg_pool2d(torch.tanh(self.conv1(x)), 2)
        x = nn.functional.avg_pool2d(torch.tanh(self.conv2(x)), 2)
        x = torch.flatten(x, 1)
        x = torch.tanh(self.fc1(x))
        x = torch.tanh(self.fc2(x))
        return torch.log_softmax(self.fc3(x), dim=1)


def deepear(bands=24, frames=11, hidden=1024, num_classes=10):
    """A DeepEar-style audio DNN (Lane et al., UbiComp 2015): a window of stacked log filterbank frames
    (bands x frames values) through three fully-connected hidden layers to class probabilities."""
    return nn.Sequential(nn.Linear(bands * frames, hidden), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(hidden, hidden), nn.ReLU(), nn.Dropout(0.2),
                         nn.Linear(hidden, hidden), nn.ReLU(),
                         nn.Linear(hidden, num_classes), nn.Softmax(dim=1))


def build(name):
    """The model (in training-default state) and its per-sample input shape."""
    import torchvision.models as tvm
    builders = {
        "alexnet": lambda: (tvm.alexnet(), IMAGENET),
        "vgg16": lambda: (tvm.vgg16(), IMAGENET),
        "resnet18": lambda: (tvm.resnet18(), IMAGENET),
        "mobilenet_v2": lambda: (tvm.mobilenet_v2(), IMAGENET),
        "squeezenet1_1": lambda: (tvm.squeezenet1_1(), IMAGENET),
        "googlenet": lambda: (tvm.googlenet(aux_logits=False, init_weights=True), IMAGENET),
        "svhn_cnn": lambda: (SvhnCnn(), (3, 32, 32)),
        "lenet5": lambda: (LeNet5(), (1, 32, 32)),
        "deepear": lambda: (deepear(), (24 * 11,)),
        "mobilenet_v1": lambda: (MobileNetV1(), IMAGENET),
    }
    return builders[name]()


# Smallest first, so a partial run still covers something.
MODELS = ["lenet5", "deepear", "svhn_cnn", "squeezenet1_1", "mobilenet_v2", "resnet18", "googlenet", "alexnet",
          "vgg16"]



def randomise_batchnorm(model, gen):
    """Gives every BatchNorm non-trivial statistics; freshly built ones have mean 0, var 1, scale 1, shift 0."""
    for m in model.modules():
        if isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            n = m.num_features
            m.running_mean.copy_(torch.randn(n, generator=gen) * 0.2)
            m.running_var.copy_(torch.rand(n, generator=gen) * 0.8 + 0.6)
            m.weight.data.copy_(torch.rand(n, generator=gen) * 0.8 + 0.6)
            m.bias.data.copy_(torch.randn(n, generator=gen) * 0.2)
