"""The semantic model: names, layers, flows and init sites, asserted on small realistic sources."""

from __future__ import annotations

import ast
import textwrap

from initlint.model.entities import C_ACTIVATION, F_ACTIVATION, F_HEAD, F_UNKNOWN
from initlint.model.semantic import FileModel
from initlint.source import SourceFile


def build(source: str) -> FileModel:
    text = textwrap.dedent(source)
    return FileModel.build(SourceFile("m.py", text), ast.parse(text))


def layer(model: FileModel, display: str):
    matches = [n for n in model.all_nodes() if n.display == display]
    assert matches, f"no {display}; have {[n.display for n in model.all_nodes()]}"
    return matches[0]


def acts(node) -> set[str]:
    return {c.activation.name for c in node.consumers if c.kind == C_ACTIVATION}


def weight_init(node, param="weight") -> str | None:
    event = node.final_event(param)
    return event.op.name if event is not None and event.op is not None else None


# ------------------------------------------------------------------------------------------ names

def test_import_spellings_resolve_to_torch():
    model = build("""
        import torch.nn as nn
        from torch.nn import init
        import torch.nn.init as I
        from torch.nn.init import xavier_uniform_ as xu
        import torch.nn.functional as F
        import torch
    """)
    q = lambda src: model.names.qualname(ast.parse(src, mode="eval").body)
    assert q("nn.Linear") == "torch.nn.Linear"
    assert q("init.kaiming_normal_") == "torch.nn.init.kaiming_normal_"
    assert q("I.zeros_") == "torch.nn.init.zeros_"
    assert q("xu") == "torch.nn.init.xavier_uniform_"
    assert q("F.relu") == "torch.nn.functional.relu"
    assert q("torch.nn.init.orthogonal_") == "torch.nn.init.orthogonal_"
    assert q("torch.nn.modules.conv.Conv2d") == "torch.nn.Conv2d"


def test_conventional_aliases_through_a_star_import():
    model = build("""
        from ..imports import *

        class Net(Module):
            def __init__(self):
                super().__init__()
                self.fc = nn.Linear(4, 4)
                init.xavier_uniform_(self.fc.weight)

            def forward(self, x):
                return F.relu(self.fc(x))
    """)
    fc = layer(model, "self.fc")
    assert fc.cls == "Linear" and weight_init(fc) == "xavier_uniform_" and acts(fc) == {"relu"}


def test_transformers_initialization_alias_is_understood():
    model = build("""
        import torch.nn as nn
        from ... import initialization as init

        class Head(nn.Module):
            def __init__(self):
                super().__init__()
                self.dense = nn.Linear(8, 8)
                init.normal_(self.dense.weight, std=0.02)
    """)
    assert weight_init(layer(model, "self.dense")) == "normal_"


# ----------------------------------------------------------------------------------------- layers

def test_layers_from_sequential_list_builders_helpers_and_ordered_dict():
    model = build("""
        from collections import OrderedDict
        import torch.nn as nn

        def conv3x3(i, o):
            return nn.Conv2d(i, o, 3, padding=1, bias=False)

        class Net(nn.Module):
            def __init__(self, depth=3):
                super().__init__()
                layers = []
                for _ in range(depth):
                    layers += [nn.Linear(8, 8), nn.ReLU()]
                layers.append(nn.Linear(8, 2))
                self.mlp = nn.Sequential(*layers)
                self.stem = conv3x3(3, 8)
                self.named = nn.Sequential(OrderedDict([("fc", nn.Linear(2, 2)), ("act", nn.Tanh())]))

            def forward(self, x):
                return self.named(self.mlp(self.stem(x)))
    """)
    assert layer(model, "self.mlp.0").cls == "Linear"
    assert acts(layer(model, "self.mlp.0")) == {"relu"}
    assert layer(model, "self.stem").flags.get("bias") is False
    assert layer(model, "self.named.fc").cls == "Linear"
    assert acts(layer(model, "self.named.fc")) == {"tanh"}


def test_literal_constructor_arguments_are_recorded():
    model = build("""
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self, n):
                super().__init__()
                self.conv = nn.Conv2d(64, 128, kernel_size=3, groups=2, bias=False)
                self.act = nn.LeakyReLU(negative_slope=0.2)
                self.fc = nn.Linear(n, 10)
    """)
    conv = layer(model, "self.conv")
    assert conv.flags["in_channels"] == 64 and conv.flags["kernel_size"] == 3 and conv.flags["groups"] == 2
    assert conv.has_param("bias") is False
    assert layer(model, "self.act").activation.slope == 0.2
    assert layer(model, "self.fc").flags["in_features"] is None  # not a literal


def test_instance_norm_has_no_parameters_by_default():
    model = build("""
        import torch.nn as nn
        net = nn.Sequential(nn.InstanceNorm2d(8), nn.InstanceNorm2d(8, affine=True))
    """)
    assert layer(model, "net.0").has_param("weight") is False
    assert layer(model, "net.1").has_param("weight") is True


# ------------------------------------------------------------------------------------------- flow

def test_flow_through_locals_methods_norms_and_residuals():
    model = build("""
        import torch
        import torch.nn as nn
        import torch.nn.functional as F

        class Block(nn.Module):
            def __init__(self, act_layer=nn.GELU):
                super().__init__()
                self.fc1 = nn.Linear(8, 8)
                self.norm = nn.LayerNorm(8)
                self.act = act_layer()
                self.fc2 = nn.Linear(8, 8)
                self.fc3 = nn.Linear(8, 8)
                self.gate = nn.Linear(8, 8)

            def forward(self, x):
                h = self.fc1(x)
                h = self.norm(h)
                h = self.act(h)
                y = self.fc2(h).relu()
                z = x + self.fc3(y)
                z = torch.tanh(z)
                return z * torch.sigmoid(self.gate(x))
    """)
    fc1 = layer(model, "self.fc1")
    assert acts(fc1) == {"gelu"} and all(c.via_norm for c in fc1.consumers)
    assert acts(layer(model, "self.fc2")) == {"relu"}
    fc3 = layer(model, "self.fc3")
    assert acts(fc3) == {"tanh"} and fc3.in_residual
    assert layer(model, "self.gate").feeds().kind == F_UNKNOWN  # a sigmoid gate multiplied in


def test_heads_unknown_consumers_and_conditional_activations():
    model = build("""
        import torch.nn as nn
        import torch.nn.functional as F

        class Net(nn.Module):
            def __init__(self, use_relu=True):
                super().__init__()
                self.fc = nn.Linear(4, 4)
                self.mystery = nn.Linear(4, 4)
                self.head = nn.Linear(4, 2)
                self.act = nn.ReLU() if use_relu else nn.Tanh()

            def forward(self, x):
                x = self.act(self.fc(x))
                x = ACT2FN[self.cfg](self.mystery(x))
                return self.head(x)
    """)
    assert acts(layer(model, "self.fc")) == {"relu", "tanh"}
    assert layer(model, "self.mystery").feeds().kind == F_UNKNOWN
    assert layer(model, "self.head").feeds().kind == F_HEAD


def test_flow_through_module_list_iteration_and_blocks():
    model = build("""
        import torch.nn as nn

        class Block(nn.Module):
            def __init__(self):
                super().__init__()
                self.conv = nn.Conv2d(8, 8, 3)
                self.bn = nn.BatchNorm2d(8)
                self.relu = nn.ReLU()

            def forward(self, x):
                return self.relu(self.bn(self.conv(x)))

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.layers = nn.ModuleList([nn.Linear(8, 8), nn.Tanh()])
                self.block = Block()
                self.out = nn.Linear(8, 1)

            def forward(self, x):
                for layer in self.layers:
                    x = layer(x)
                x = self.block(x)
                return self.out(x)
    """)
    assert acts(layer(model, "self.layers.0")) == {"tanh"}
    conv = layer(model, "self.conv")
    assert acts(conv) == {"relu"} and conv.feeds().via_norm
    assert layer(model, "self.out").feeds().kind == F_HEAD


def test_layer_then_final_activation_is_a_head():
    model = build("""
        import torch
        import torch.nn as nn
        class Policy(nn.Module):
            def __init__(self):
                super().__init__()
                self.hidden = nn.Linear(4, 4)
                self.mu = nn.Linear(4, 2)
            def forward(self, x):
                return torch.tanh(self.mu(torch.relu(self.hidden(x))))
    """)
    assert layer(model, "self.mu").feeds().kind == F_HEAD
    assert layer(model, "self.hidden").feeds().kind == F_ACTIVATION


# ------------------------------------------------------------------------------------ init sites

def test_apply_dispatch_with_isinstance_tuples_and_class_names():
    model = build("""
        import torch.nn as nn

        def weights_init(m):
            classname = m.__class__.__name__
            if classname.find("Conv") != -1:
                nn.init.normal_(m.weight, 0.0, 0.02)
            elif isinstance(m, (nn.BatchNorm2d, nn.GroupNorm)):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)

        class G(nn.Module):
            def __init__(self):
                super().__init__()
                self.main = nn.Sequential(nn.ConvTranspose2d(4, 4, 4), nn.BatchNorm2d(4), nn.ReLU(), nn.Linear(4, 4))

        netG = G()
        netG.apply(weights_init)
    """)
    assert weight_init(layer(model, "self.main.0")) == "normal_"
    assert weight_init(layer(model, "self.main.1")) == "ones_"
    assert weight_init(layer(model, "self.main.3")) is None  # Linear: not matched


def test_modules_loop_named_parameters_and_execution_order():
    model = build("""
        import torch.nn as nn

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.rnn = nn.LSTM(8, 16, num_layers=2)
                self.fc = nn.Linear(16, 4)
                nn.init.xavier_uniform_(self.fc.weight)
                for m in self.modules():
                    if isinstance(m, nn.Linear):
                        nn.init.kaiming_normal_(m.weight)
                for name, p in self.rnn.named_parameters():
                    if "weight_hh" in name:
                        nn.init.orthogonal_(p)
                    elif "bias" in name:
                        nn.init.zeros_(p)
    """)
    assert weight_init(layer(model, "self.fc")) == "kaiming_normal_"  # the last write wins
    rnn = layer(model, "self.rnn")
    assert weight_init(rnn, "weight_hh_l0") == "orthogonal_" and weight_init(rnn, "weight_hh_l1") == "orthogonal_"
    assert weight_init(rnn, "bias_ih_l1") == "zeros_"
    assert weight_init(rnn, "weight_ih_l0") is None


def test_init_weights_method_reset_parameters_and_helpers():
    model = build("""
        import torch.nn as nn

        def layer_init(layer, std=1.0):
            nn.init.orthogonal_(layer.weight, std)
            nn.init.constant_(layer.bias, 0.0)
            return layer

        class MyLinear(nn.Linear):
            def reset_parameters(self):
                nn.init.xavier_normal_(self.weight)

        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.a = layer_init(nn.Linear(4, 4), std=2.0)
                self.b = MyLinear(4, 4)
                self.c = nn.Linear(4, 4)
                self.apply(self._init_weights)

            def _init_weights(self, module):
                if isinstance(module, nn.Linear) and module is not None:
                    if module.bias is not None:
                        nn.init.zeros_(module.bias)
    """)
    assert weight_init(layer(model, "self.a")) == "orthogonal_"
    assert weight_init(layer(model, "self.b")) == "xavier_normal_"
    assert weight_init(layer(model, "self.c")) is None and weight_init(layer(model, "self.c"), "bias") == "zeros_"


def test_config_dependent_inits_are_conditional():
    model = build("""
        import torch.nn as nn
        def init_weights(net, init_type="normal"):
            def init_func(m):
                if isinstance(m, nn.Linear):
                    if init_type == "normal":
                        nn.init.normal_(m.weight, 0.0, 0.02)
                    elif init_type == "xavier":
                        nn.init.xavier_normal_(m.weight)
            net.apply(init_func)

        net = nn.Sequential(nn.Linear(2, 2), nn.ReLU())
        init_weights(net)
    """)
    fc = layer(model, "net.0")
    events = [e for e in fc.events if e.param == "weight"]
    assert events and all(e.conditional for e in events)
    assert fc.final_event("weight") is None  # no rule judges an option as the final init


def test_unguarded_dispatch_is_recorded():
    model = build("""
        import torch.nn as nn
        def init(m):
            nn.init.zeros_(m.bias)
        net = nn.Sequential(nn.Linear(2, 2, bias=False), nn.ReLU())
        net.apply(init)
    """)
    reached = {(node.cls, param) for _op, _d, node, param in model.unguarded}
    assert ("Linear", "bias") in reached and ("ReLU", "bias") in reached


def test_module_dict_iteration_in_forward():
    model = build("""
        import torch.nn as nn
        class Net(nn.Module):
            def __init__(self):
                super().__init__()
                self.stages = nn.ModuleDict({"a": nn.Linear(4, 4), "b": nn.ReLU()})
                self.more = nn.ModuleList([nn.Linear(4, 4), nn.Tanh()])
            def forward(self, x):
                for name, layer in self.stages.items():
                    x = layer(x)
                for i, layer in enumerate(self.more):
                    x = layer(x)
                return x
    """)
    assert acts(layer(model, "self.stages.a")) == {"relu"}
    assert acts(layer(model, "self.more.0")) == {"tanh"}
