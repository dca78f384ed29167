"""TransNAS-Bench-101 networks: the benchmark's encoder (``MacroNet``) and task heads, as NASLib builds them.

Written after TransNAS-Bench-101's model code as vendored in NASLib (``naslib/search_spaces/transbench101/tnb101``:
``model_builder.create_model``, ``models/net_infer/{net_macro,cell_micro}.py``, ``models/net_ops/cell_ops.py``,
``models/{decoder,discriminator,feedforward,siamese,segmentation,gan}.py``). NAS-Bench-Suite-Zero computed its
TNB proxies on exactly these networks (NASLib's TNB graph wraps ``create_model(arch_str, task)`` when it is not
asked to build its own graph).

Encoder (net code ``"64-<macro>-<cell>"``): stem Conv3x3(3 -> 32, stride 2)-BN, ReLU-Conv3x3(32 -> 64, stride 2)-BN;
then one layer of two blocks per macro digit (1 keep, 2 double the channels, 3 halve the resolution, 4 both); each
block is a micro cell (``"a_bc_def"``: node1 = a(node0), node2 = b(node0) + c(node1), node3 = d(node0) + e(node1) +
f(node2); ops 0 zero, 1 skip, 2 ReLU-Conv1x1-BN, 3 ReLU-Conv3x3-BN) or a ResNet basic block (``basic``). Kaiming
(fan-out) init of every encoder conv, BatchNorm weight 1 and bias 0; the heads keep PyTorch's default init.

Two quirks of the original are kept because the released values depend on them: the basic block's shortcut BN is
``BatchNorm2d(planes, True, True)``, i.e. eps = 1 and momentum = 1 (positional arguments), and the
``Zero`` op on a channel change returns zeros of spatial size ``(H + 1) // stride``.

Heads per task (``TASKS``): class_object (100 classes) / class_scene (63) / room_layout (9): global average pooling
+ linear; jigsaw: the encoder on each of 9 tiles (N, 9, 3, 64, 64), features concatenated, pooled, linear to 1000
permutation classes; segmentsemantic: a conv/deconv decoder to 17 x 256 x 256 logits; autoencoder and normal: the
Pix2Pix generative decoder to 3 x 256 x 256 (tanh), plus the GAN's discriminator, which the forward never calls
(as in the original model object).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

BASE_CHANNELS = 64
MICRO_MACRO_CODE = "41414"


# ------------------------------------------------------------------------------------------------------------ ops
class ReLUConvBN(nn.Module):
    """ReLU (or LeakyReLU 0.2) -> Conv2d(bias=False) -> BatchNorm2d."""

    def __init__(self, c_in: int, c_out: int, kernel_size: int, stride: int, padding: int, dilation: int = 1,
                 affine: bool = True, track_running_stats: bool = True, activation: str = "relu") -> None:
        super().__init__()
        act: nn.Module = nn.LeakyReLU(0.2, False) if activation == "leaky" else nn.ReLU(inplace=False)
        self.ops = nn.Sequential(
            act,
            nn.Conv2d(c_in, c_out, kernel_size, stride=stride, padding=padding, dilation=dilation, bias=False),
            nn.BatchNorm2d(c_out, affine=affine, track_running_stats=track_running_stats),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.ops(x)


class Identity(nn.Module):
    """Skip connection at stride 1 with equal channels."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x


class Zero(nn.Module):
    """The zero op: ``x * 0`` (strided) when channels match, else fresh zeros of ``(H + 1) // stride`` pixels."""

    def __init__(self, c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        self.c_in, self.c_out, self.stride = c_in, c_out, stride

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.c_in == self.c_out:
            if self.stride == 1:
                return x.mul(0.0)
            return x[:, :, :: self.stride, :: self.stride].mul(0.0)
        shape = list(x.shape)
        shape[1], shape[2], shape[3] = self.c_out, (shape[2] + 1) // self.stride, (shape[3] + 1) // self.stride
        return x.new_zeros(shape)


class FactorizedReduce(nn.Module):
    """ReLU, two 1x1 convs (the second on the input shifted by one pixel, zero padded), concatenated, BN."""

    def __init__(self, c_in: int, c_out: int, stride: int, affine: bool = True, track_running_stats: bool = True):
        super().__init__()
        if c_out % 2:
            raise ValueError(f"FactorizedReduce needs an even number of output channels, got {c_out}")
        self.relu = nn.ReLU(inplace=False)
        self.convs = nn.ModuleList(
            nn.Conv2d(c_in, c, 1, stride=stride, padding=0, bias=False) for c in (c_out // 2, c_out - c_out // 2)
        )
        self.pad = nn.ConstantPad2d((0, 1, 0, 1), 0)
        self.bn = nn.BatchNorm2d(c_out, affine=affine, track_running_stats=track_running_stats)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(x)
        y = self.pad(x)
        return self.bn(torch.cat([self.convs[0](x), self.convs[1](y[:, :, 1:, 1:])], dim=1))


def micro_op(code: str, c_in: int, c_out: int, stride: int) -> nn.Module:
    """One micro-cell edge: 0 zero, 1 skip (FactorizedReduce when the shape changes), 2 conv1x1, 3 conv3x3."""
    if code == "0":
        return Zero(c_in, c_out, stride)
    if code == "1":
        return Identity() if stride == 1 and c_in == c_out else FactorizedReduce(c_in, c_out, stride)
    if code == "2":
        return ReLUConvBN(c_in, c_out, 1, stride, 0)
    if code == "3":
        return ReLUConvBN(c_in, c_out, 3, stride, 1)
    raise ValueError(f"tnb101: unknown micro op {code!r}; expected 0..3")


class MicroCell(nn.Module):
    """A 4-node micro cell from its code ``['', 'a', 'bc', 'def']``; edges from node 0 carry the stride."""

    expansion = 1

    def __init__(self, cell_code: Sequence[str], c_in: int, c_out: int, stride: int) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"invalid stride {stride}")
        self.nodes = list(range(len(cell_code)))
        if self.nodes != [len(c) for c in cell_code]:
            raise ValueError(f"tnb101: malformed cell code {cell_code!r}")
        self.from_nodes = [list(range(i)) for i in self.nodes]
        self.from_ops = [list(range(n * (n - 1) // 2, n * (n - 1) // 2 + n)) for n in self.nodes]
        self.edges = nn.ModuleList()
        for node in self.nodes:
            for op, src in zip(cell_code[node], self.from_nodes[node], strict=True):
                self.edges.append(micro_op(op, c_in, c_out, stride) if src == 0 else micro_op(op, c_out, c_out, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [x]
        for node in self.nodes[1:]:
            parts = [self.edges[e](feats[s]) for e, s in zip(self.from_ops[node], self.from_nodes[node], strict=True)]
            feats.append(torch.stack(parts).sum(0))
        return feats[-1]


class ResNetBasicBlock(nn.Module):
    """ReLUConvBN 3x3 (stride) -> ReLUConvBN 3x3, plus a Conv1x1-BN shortcut when the shape changes."""

    expansion = 1

    def __init__(self, cell_code: object, c_in: int, c_out: int, stride: int = 1) -> None:
        super().__init__()
        if stride not in (1, 2):
            raise ValueError(f"invalid stride {stride}")
        self.conv_a = ReLUConvBN(c_in, c_out, 3, stride, 1)
        self.conv_b = ReLUConvBN(c_out, c_out, 3, 1, 1)
        self.downsample: nn.Module | None = None
        if stride != 1 or c_in != c_out:
            # BatchNorm2d(planes, affine, track_running_stats) in the original: eps=1.0, momentum=1.0
            self.downsample = nn.Sequential(
                nn.Conv2d(c_in, c_out, kernel_size=1, stride=stride, padding=0, bias=False),
                nn.BatchNorm2d(c_out, True, True),
            )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv_b(self.conv_a(x))
        residual = x if self.downsample is None else self.downsample(x)
        return residual + out


class MacroNet(nn.Module):
    """The TNB backbone for a net code ``"64-41414-1_02_333"`` (micro) or ``"64-1234-basic"`` (macro).

    ``output_dim`` is (channels, height, width) of the feature map for ``input_dim`` = (height, width).
    """

    def __init__(self, net_code: str, input_dim: tuple[int, int] = (256, 256)) -> None:
        super().__init__()
        parts = net_code.split("-")
        if len(parts) != 3:
            raise ValueError(f"tnb101: net code {net_code!r} must be '<channels>-<macro>-<cell>'")
        self.base_channel = int(parts[0])
        self.macro_code = parts[1]
        if parts[2] == "basic":
            self.micro_code: object = "basic"
            cell: Callable[..., nn.Module] = ResNetBasicBlock
        else:
            self.micro_code = ["", *parts[2].split("_")]
            cell = MicroCell
        self.inplanes = self.base_channel
        feature = [input_dim[0] // 4, input_dim[1] // 4]
        c = self.base_channel
        self.stem = nn.Sequential(
            nn.Conv2d(3, c // 2, kernel_size=3, stride=2, padding=1, dilation=1, bias=False),
            nn.BatchNorm2d(c // 2, affine=True, track_running_stats=True),
            ReLUConvBN(c // 2, c, 3, 2, 1),
        )
        self.layers: list[str] = []
        for i, digit in enumerate(self.macro_code):
            layer_type = int(digit)  # channel doubling: 2, 4; stride 2: 3, 4
            planes = self.inplanes * 2 if layer_type % 2 == 0 else self.inplanes
            stride = 2 if layer_type > 2 else 1
            feature = [feature[0] // stride, feature[1] // stride]
            blocks = [cell(self.micro_code, self.inplanes, planes, stride)]
            self.inplanes = planes
            blocks.append(cell(self.micro_code, self.inplanes, planes, 1))
            self.add_module(f"layer{i}", nn.Sequential(*blocks))
            self.layers.append(f"layer{i}")
        self.output_dim = (self.inplanes, *feature)
        for m in self.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu")
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.constant_(m.weight, 1)
                nn.init.constant_(m.bias, 0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.stem(x)
        for name in self.layers:
            x = getattr(self, name)(x)
        return x


# ---------------------------------------------------------------------------------------------------------- heads
class ConvLayer(nn.Module):
    """Conv2d (with bias; ``transpose``: ConvTranspose2d with output_padding 1) -> optional BatchNorm -> optional
    activation."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int,
                 activation: nn.Module | None, norm: object, transpose: bool = False) -> None:
        super().__init__()
        self.conv = (nn.ConvTranspose2d(c_in, c_out, kernel, stride=stride, padding=padding, output_padding=1)
                     if transpose else nn.Conv2d(c_in, c_out, kernel, stride=stride, padding=padding))
        self.activation = activation
        self.norm = nn.BatchNorm2d(c_out) if norm is nn.BatchNorm2d else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.conv(x)
        if self.norm is not None:
            x = self.norm(x)
        return x if self.activation is None else self.activation(x)


class DeconvLayer(ConvLayer):
    """ConvTranspose2d (output_padding 1) -> BatchNorm -> activation."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int, padding: int,
                 activation: nn.Module | None, norm: object) -> None:
        super().__init__(c_in, c_out, kernel, stride, padding, activation, norm, transpose=True)


class FFDecoder(nn.Module):
    """Global average pooling + linear (classification and room-layout regression)."""

    def __init__(self, in_dim: Sequence[int], out_dim: int) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(in_dim[0], out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.avgpool(x), 1))


class SiameseDecoder(nn.Module):
    """Global average pooling of the concatenated tile features + linear to the permutation classes."""

    def __init__(self, in_dim: Sequence[int], out_dim: int, num_pieces: int) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        self.fc = nn.Linear(in_dim[0] * num_pieces, out_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc(torch.flatten(self.avgpool(x), 1))


def _num_upsample(in_width: int, out_width: int) -> int:
    n = int(math.log2(out_width / in_width))
    if n not in (2, 3, 4, 5, 6):
        raise ValueError(f"tnb101: invalid number of upsampling layers {n} ({in_width} -> {out_width} pixels)")
    return n


class SegmentationDecoder(nn.Module):
    """Conv/deconv decoder from the encoder features to ``target_num_channel`` x 256 x 256 logits."""

    def __init__(self, in_dim: Sequence[int], target_dim: Sequence[int], target_num_channel: int = 3) -> None:
        super().__init__()
        n_up = _num_upsample(in_dim[1], target_dim[0])
        bn = nn.BatchNorm2d
        model: list[nn.Module] = [ConvLayer(in_dim[0], 1024, 3, 1, 1, nn.LeakyReLU(0.2, False), bn)]
        c = 1024
        for _ in range(6 - n_up):
            model.append(ConvLayer(c, c // 2, 3, 1, 1, nn.LeakyReLU(0.2, False), bn))
            c //= 2
        for _ in range(n_up - 1):
            model.append(DeconvLayer(c, c // 2, 3, 2, 1, nn.LeakyReLU(0.2, False), bn))
            c //= 2
        model.append(DeconvLayer(c, c, 3, 2, 1, nn.LeakyReLU(0.2, False), bn))
        model.append(ConvLayer(c, target_num_channel, 3, 1, 1, None, None))
        self.model = nn.Sequential(*model)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(x)


class GenerativeDecoder(nn.Module):
    """The 14-layer Pix2Pix decoder from the encoder features to a 3 x 256 x 256 image (tanh)."""

    def __init__(self, in_dim: Sequence[int], target_dim: Sequence[int], target_num_channel: int = 3) -> None:
        super().__init__()
        n = _num_upsample(in_dim[1], target_dim[0])
        bn = nn.BatchNorm2d

        def layer(c_in: int, c_out: int, up: bool) -> nn.Module:
            return (DeconvLayer if up else ConvLayer)(c_in, c_out, 3, 2 if up else 1, 1, nn.LeakyReLU(0.2), bn)

        self.conv1 = layer(in_dim[0], 1024, False)
        self.conv2 = layer(1024, 1024, False)
        self.conv3 = layer(1024, 512, n == 6)
        self.conv4 = layer(512, 512, False)
        self.conv5 = layer(512, 256, n >= 5)
        self.conv6 = layer(256, 128, False)
        self.conv7 = layer(128, 64, n >= 4)
        self.conv8 = layer(64, 64, False)
        self.conv9 = layer(64, 32, n >= 3)
        self.conv10 = layer(32, 32, False)
        self.conv11 = layer(32, 16, True)
        self.conv12 = layer(16, 32, False)
        self.conv13 = layer(32, 16, True)
        self.conv14 = ConvLayer(16, target_num_channel, 3, 1, 1, nn.Tanh(), None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i in range(1, 15):
            x = getattr(self, f"conv{i}")(x)
        return x


class Discriminator(nn.Module):
    """The Pix2Pix discriminator of the GAN model; never called by the generator's forward.

    The original wraps its first six convs in spectral normalisation, a re-parametrisation that acts only in the
    discriminator's own forward; until then the wrapped weight equals the initial conv weight. The convs are kept as
    plain parameters here, so the proxies see the same weights (and no gradient) as NASLib's model object."""

    def __init__(self) -> None:
        super().__init__()
        self.avgpool = nn.AdaptiveAvgPool2d((1, 1))
        spec = [(6, 64, 5, 4, 2), (64, 128, 5, 4, 2), (128, 256, 5, 4, 2), (256, 256, 3, 1, 1),
                (256, 512, 3, 1, 1), (512, 512, 3, 1, 1)]
        for i, (ci, co, k, s, p) in enumerate(spec, start=1):
            setattr(self, f"conv{i}", ConvLayer(ci, co, k, s, p, nn.LeakyReLU(0.2), None))
        self.conv7 = ConvLayer(512, 1, 3, 1, 1, None, None)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for i in range(1, 8):
            x = getattr(self, f"conv{i}")(x)
        return self.avgpool(x).flatten()


# ---------------------------------------------------------------------------------------------------- task models
class FeedForwardNet(nn.Module):
    """Encoder + FFDecoder (class_object, class_scene, room_layout)."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module) -> None:
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))

    def forward_before_global_avg_pool(self, x: torch.Tensor) -> torch.Tensor:
        """The features entering the global average pooling (what Zen-NAS scores)."""
        return self.encoder(x)


class SiameseNet(nn.Module):
    """Jigsaw: the shared encoder on each tile of (N, 9, 3, H, W), features concatenated along channels."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module) -> None:
        super().__init__()
        self.encoder, self.decoder = encoder, decoder

    def forward_before_global_avg_pool(self, x: torch.Tensor) -> torch.Tensor:
        """The concatenated tile features entering the decoder's global average pooling."""
        if x.dim() != 5:
            raise ValueError(f"jigsaw input must be tiles of shape (N, 9, 3, H, W), got {tuple(x.shape)}")
        return torch.cat([self.encoder(x[:, i]) for i in range(x.shape[1])], dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.forward_before_global_avg_pool(x))


class PixelNet(nn.Module):
    """Encoder + a pixel-level decoder (Segmentation, or the GAN's generator with its discriminator attached).

    ``forward_before_global_avg_pool`` returns the input of the decoder's last convolution, the map NASLib's zen
    scores on pixel tasks (there is no global pooling)."""

    def __init__(self, encoder: nn.Module, decoder: nn.Module, discriminator: nn.Module | None = None) -> None:
        super().__init__()
        self.encoder, self.decoder = encoder, decoder
        if discriminator is not None:
            self.discriminator = discriminator

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.encoder(x))

    def _last_conv(self) -> nn.Module:
        return self.decoder.model[-1] if isinstance(self.decoder, SegmentationDecoder) else self.decoder.conv14

    def forward_before_global_avg_pool(self, x: torch.Tensor) -> torch.Tensor:
        seen: list[torch.Tensor] = []
        handle = self._last_conv().register_forward_hook(lambda m, i, o: seen.append(i[0]))
        try:
            self.forward(x)
        finally:
            handle.remove()
        return seen[-1]


def build_model(net_code: str, task: str) -> nn.Module:
    """The TNB model of ``task`` for the encoder net code (``create_model`` of the benchmark, NASLib's classes)."""
    from evoproxy.spaces.tnb101 import TASKS

    if task not in TASKS:
        raise ValueError(f"tnb101: unknown task {task!r}; expected one of {sorted(TASKS)}")
    spec = TASKS[task]
    side = spec.input_shape[-2:]
    encoder = MacroNet(net_code, input_dim=(side[0], side[1]))
    dim = encoder.output_dim
    if task in ("class_object", "class_scene", "room_layout"):
        return FeedForwardNet(encoder, FFDecoder(dim, spec.num_outputs))
    if task == "jigsaw":
        return SiameseNet(encoder, SiameseDecoder(dim, spec.num_outputs, num_pieces=spec.input_shape[0]))
    if task == "segmentsemantic":
        return PixelNet(encoder, SegmentationDecoder(dim, (256, 256), target_num_channel=spec.num_outputs))
    return PixelNet(encoder, GenerativeDecoder(dim, (256, 256)), Discriminator())  # autoencoder, normal


# --------------------------------------------------------------------------------------------------------- losses
class SoftmaxCrossEntropyWithLogits(nn.Module):
    """TNB's loss for class_object / class_scene: mean over samples of -sum(p * log(softmax(y) + 1e-5)) against
    the soft label distribution p."""

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        return -(target * torch.log(F.softmax(logits, dim=-1) + 1e-5)).sum(dim=-1).mean()


def loss_fn(task: str) -> Callable[[torch.Tensor, torch.Tensor], torch.Tensor]:
    """The loss NASLib's TNB graph uses for the gradient proxies (``get_loss_fn``)."""
    if task in ("class_object", "class_scene"):
        return SoftmaxCrossEntropyWithLogits()
    if task in ("autoencoder", "normal"):
        return nn.L1Loss()
    if task == "room_layout":
        return nn.MSELoss()
    return F.cross_entropy  # jigsaw, segmentsemantic
