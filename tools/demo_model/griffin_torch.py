# SPDX-License-Identifier: Apache-2.0
"""Griffin / RecurrentGemma in PyTorch, written from docs/griffin-spec.md.

Training-mode (full-sequence) forward pass only: this module is used to train
the small demo model and to check it against the C++ engine. Parameter names
and shapes follow the Hugging Face ``RecurrentGemmaForCausalLM`` layout
(griffin-spec.md section 4.1), so ``model.state_dict()`` can be written to a
safetensors file the engine loads directly.

Also contains a small dependency-free safetensors reader/writer (F32, BF16,
F16 read; F32 and BF16 write) built on json + struct + torch.
"""

import json
import math
import struct

import torch
import torch.nn as nn
import torch.nn.functional as F

# ----------------------------------------------------------------------------
# safetensors I/O
# ----------------------------------------------------------------------------

_ST_DTYPES = {
    "F32": (torch.float32, 4),
    "BF16": (torch.bfloat16, 2),
    "F16": (torch.float16, 2),
}


def load_safetensors(path):
    """Reads a .safetensors file into a dict name -> float32 tensor (CPU)."""
    with open(path, "rb") as f:
        blob = f.read()
    if len(blob) < 8:
        raise ValueError(f"{path}: too short for a safetensors file")
    (hlen,) = struct.unpack("<Q", blob[:8])
    if hlen > len(blob) - 8 or hlen > 100_000_000:
        raise ValueError(f"{path}: bad header length {hlen}")
    header = json.loads(blob[8:8 + hlen].decode("utf-8"))
    base = 8 + hlen
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = info["dtype"]
        if dtype not in _ST_DTYPES:
            raise ValueError(f"{path}: tensor {name}: unsupported dtype {dtype}")
        tdtype, size = _ST_DTYPES[dtype]
        shape = [int(d) for d in info["shape"]]
        begin, end = (int(v) for v in info["data_offsets"])
        count = math.prod(shape)
        if end - begin != count * size or base + end > len(blob) or begin < 0:
            raise ValueError(f"{path}: tensor {name}: inconsistent offsets")
        raw = bytearray(blob[base + begin:base + end])
        if count == 0:
            t = torch.zeros(shape, dtype=torch.float32)
        elif dtype == "F32":
            t = torch.frombuffer(raw, dtype=torch.float32).clone()
        else:
            # Read as int16 and reinterpret, so that byte order is explicit
            # (safetensors is little-endian; so is every machine we run on).
            t = torch.frombuffer(raw, dtype=torch.int16).clone().view(tdtype).float()
        out[name] = t.reshape(shape)
    return out


def save_safetensors(path, tensors, dtype="BF16", metadata=None):
    """Writes name -> tensor as a safetensors file with every tensor in `dtype`
    ("F32" or "BF16"; float32 -> bfloat16 rounds to nearest even)."""
    if dtype not in ("F32", "BF16"):
        raise ValueError("dtype must be F32 or BF16")
    header = {}
    chunks = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name].detach().to("cpu", torch.float32).contiguous()
        if dtype == "F32":
            data = t.numpy().astype("<f4").tobytes()
        else:
            data = t.to(torch.bfloat16).view(torch.int16).numpy().astype("<i2").tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        chunks.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    hbytes = json.dumps(header, separators=(",", ":")).encode("utf-8")
    hbytes += b" " * ((8 - len(hbytes) % 8) % 8)  # align the data to 8 bytes
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(hbytes)))
        f.write(hbytes)
        for c in chunks:
            f.write(c)


# ----------------------------------------------------------------------------
# Configuration
# ----------------------------------------------------------------------------

class GriffinConfig:
    """The model hyper-parameters, read from / written to an HF config.json."""

    def __init__(self, vocab_size, width, num_layers, num_heads, mlp_width,
                 lru_width=None, head_dim=None, attention_window=2048,
                 conv_width=4, logits_soft_cap=30.0, rms_eps=1e-6,
                 rope_theta=10000.0, partial_rotary_factor=0.5,
                 block_types=("recurrent", "recurrent", "attention")):
        self.vocab_size = int(vocab_size)
        self.width = int(width)
        self.num_layers = int(num_layers)
        self.num_heads = int(num_heads)
        self.mlp_width = int(mlp_width)
        self.lru_width = int(lru_width or width)
        self.head_dim = int(head_dim or width // num_heads)
        self.attention_window = int(attention_window)
        self.conv_width = int(conv_width)
        self.logits_soft_cap = float(logits_soft_cap)
        self.rms_eps = float(rms_eps)
        self.rope_theta = float(rope_theta)
        self.partial_rotary_factor = float(partial_rotary_factor)
        self.block_types = list(block_types)
        if self.lru_width % self.num_heads:
            raise ValueError("lru_width must be a multiple of num_heads")

    def layer_type(self, i):
        return self.block_types[i % len(self.block_types)]

    @classmethod
    def from_hf(cls, cfg):
        rope_theta = cfg.get("rope_theta")
        prf = cfg.get("partial_rotary_factor")
        rp = cfg.get("rope_parameters") or {}
        if rope_theta is None:
            rope_theta = rp.get("rope_theta", 10000.0)
        if prf is None:
            prf = rp.get("partial_rotary_factor", 0.5)
        return cls(
            vocab_size=cfg["vocab_size"], width=cfg["hidden_size"],
            num_layers=cfg["num_hidden_layers"], num_heads=cfg["num_attention_heads"],
            mlp_width=cfg["intermediate_size"] // 2,  # HF stores 2 x MLP width
            lru_width=cfg.get("lru_width") or cfg["hidden_size"],
            head_dim=cfg.get("head_dim"),
            attention_window=cfg.get("attention_window_size", 2048),
            conv_width=cfg.get("conv1d_width", 4),
            logits_soft_cap=cfg.get("logits_soft_cap", 30.0),
            rms_eps=cfg.get("rms_norm_eps", 1e-6),
            rope_theta=rope_theta, partial_rotary_factor=prf,
            block_types=cfg.get("block_types", ["recurrent", "recurrent", "attention"]))

    def to_hf(self, torch_dtype="bfloat16"):
        return {
            "architectures": ["RecurrentGemmaForCausalLM"],
            "model_type": "recurrent_gemma",
            "vocab_size": self.vocab_size,
            "hidden_size": self.width,
            "intermediate_size": 2 * self.mlp_width,
            "num_hidden_layers": self.num_layers,
            "num_attention_heads": self.num_heads,
            "num_key_value_heads": 1,
            "head_dim": self.head_dim,
            "lru_width": self.lru_width,
            "attention_window_size": self.attention_window,
            "conv1d_width": self.conv_width,
            "logits_soft_cap": self.logits_soft_cap,
            "rms_norm_eps": self.rms_eps,
            "block_types": self.block_types,
            "embeddings_scale_by_sqrt_dim": True,
            "hidden_activation": "gelu_pytorch_tanh",
            "partial_rotary_factor": self.partial_rotary_factor,
            "rope_theta": self.rope_theta,
            "attention_bias": False,
            "attention_dropout": 0.0,
            "w_init_variance_scale": 0.01,
            "final_w_init_variance_scale": 2.0 / self.num_layers,
            "tie_word_embeddings": True,
            "use_cache": True,
            "bos_token_id": 2,
            "eos_token_id": 1,
            "pad_token_id": 0,
            "torch_dtype": torch_dtype,
        }


def load_config(path):
    with open(path) as f:
        return GriffinConfig.from_hf(json.load(f))


# ----------------------------------------------------------------------------
# Elementary pieces
# ----------------------------------------------------------------------------

def gelu_tanh(x):
    """GeLU, tanh approximation: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))."""
    return F.gelu(x, approximate="tanh")  # one fused kernel; same formula


def gelu_tanh_explicit(x):
    return 0.5 * x * (1.0 + torch.tanh(0.7978845608028654 * (x + 0.044715 * x * x * x)))


class _CappedCrossEntropy(torch.autograd.Function):
    """sum over rows of -log softmax(cap * tanh(h E^T / cap))[target], computed
    in row chunks (so the [N, V] logits never exist at once) and recomputed in
    the backward pass. Returns the summed loss."""

    @staticmethod
    def forward(ctx, h, emb, targets, cap, chunk):
        total = h.new_zeros(())
        for i in range(0, h.shape[0], chunk):
            z = h[i:i + chunk] @ emb.t()
            if cap > 0:
                z = torch.tanh(z / cap) * cap
            lse = torch.logsumexp(z, dim=-1)
            tgt = targets[i:i + chunk]
            total += (lse - z.gather(1, tgt.unsqueeze(1)).squeeze(1)).sum()
        ctx.save_for_backward(h, emb, targets)
        ctx.cap, ctx.chunk = cap, chunk
        return total

    @staticmethod
    def backward(ctx, g):
        h, emb, targets = ctx.saved_tensors
        cap, chunk = ctx.cap, ctx.chunk
        gh = torch.empty_like(h)
        gemb = torch.zeros_like(emb)
        for i in range(0, h.shape[0], chunk):
            hc = h[i:i + chunk]
            z = hc @ emb.t()
            if cap > 0:
                t = torch.tanh(z / cap)
                z = t * cap
            p = torch.softmax(z, dim=-1)
            tgt = targets[i:i + chunk]
            p[torch.arange(p.shape[0]), tgt] -= 1.0
            if cap > 0:
                p *= 1.0 - t * t
            p *= g
            gh[i:i + chunk] = p @ emb
            gemb.addmm_(p.t(), hc)
        return gh, gemb, None, None, None


def capped_cross_entropy(h, emb, targets, cap, chunk=256):
    """Summed next-token loss of final-norm outputs h [N, D] against targets [N]."""
    return _CappedCrossEntropy.apply(h, emb, targets, float(cap), int(chunk))


class _SqrtBoundedGrad(torch.autograd.Function):
    """sqrt(x) whose derivative is capped (x near 0 would give an infinite
    gradient when a -> 1 in the RG-LRU normaliser sqrt(1 - a^2))."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        return torch.sqrt(x)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * 0.5 / torch.sqrt(torch.clamp(x, min=1e-6))


class _LinearScan(torch.autograd.Function):
    """h[:, t] = a[:, t] * h[:, t-1] + b[:, t] along dim 1, h[:, -1] = 0.

    Sequential loop over time in float32 (what every reference does), with a
    hand-written reverse-time backward so autograd does not have to record T
    small graphs."""

    @staticmethod
    def forward(ctx, a, b):
        T = a.shape[1]
        h = torch.empty_like(b)
        cur = torch.zeros_like(b[:, 0])
        for t in range(T):
            cur = a[:, t] * cur + b[:, t]
            h[:, t] = cur
        ctx.save_for_backward(a, h)
        return h

    @staticmethod
    def backward(ctx, gh):
        a, h = ctx.saved_tensors
        T = a.shape[1]
        ga = torch.zeros_like(a)
        gb = torch.empty_like(gh)
        carry = torch.zeros_like(gh[:, 0])
        for t in range(T - 1, -1, -1):
            carry = gh[:, t] + carry
            gb[:, t] = carry
            if t > 0:
                ga[:, t] = carry * h[:, t - 1]
            carry = carry * a[:, t]
        return ga, gb


def linear_scan(a, b):
    return _LinearScan.apply(a.contiguous(), b.contiguous())


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(dim))
        self.eps = eps

    def forward(self, x):
        ms = x.pow(2).mean(dim=-1, keepdim=True)
        return x * torch.rsqrt(ms + self.eps) * (1.0 + self.weight)


class DepthwiseConv(nn.Module):
    """Causal depthwise Conv1D, HF layout weight [L, 1, K]; tap K-1 = current token."""

    def __init__(self, channels, width):
        super().__init__()
        self.weight = nn.Parameter(torch.zeros(channels, 1, width))
        self.bias = nn.Parameter(torch.zeros(channels))
        self.width = width

    def forward(self, x, seg_ids):
        # x: [B, T, L]; seg_ids: [B, T] document index of each token.
        B, T, L = x.shape
        K = self.width
        out = x * self.weight[:, 0, K - 1]
        for s in range(1, K):  # s = steps back
            if s >= T:
                break
            shifted = F.pad(x[:, :T - s], (0, 0, s, 0))
            same = F.pad(seg_ids[:, s:] == seg_ids[:, :T - s], (s, 0), value=False)
            out = out + shifted * same.unsqueeze(-1).to(x.dtype) * self.weight[:, 0, K - 1 - s]
        return out + self.bias


class RGLRU(nn.Module):
    def __init__(self, lru_width, num_heads):
        super().__init__()
        bw = lru_width // num_heads
        self.num_heads = num_heads
        self.bw = bw
        self.recurrent_param = nn.Parameter(torch.zeros(lru_width))
        self.input_gate_weight = nn.Parameter(torch.zeros(num_heads, bw, bw))
        self.input_gate_bias = nn.Parameter(torch.zeros(num_heads, bw))
        self.recurrent_gate_weight = nn.Parameter(torch.zeros(num_heads, bw, bw))
        self.recurrent_gate_bias = nn.Parameter(torch.zeros(num_heads, bw))

    def _block_diag(self, x, w, b):
        B, T, L = x.shape
        xb = x.reshape(B, T, self.num_heads, self.bw)
        y = torch.einsum("bthi,hij->bthj", xb, w) + b  # [in, out] per block
        return y.reshape(B, T, L)

    def forward(self, x, pos):
        gate_x = torch.sigmoid(self._block_diag(x, self.input_gate_weight, self.input_gate_bias))
        gate_a = torch.sigmoid(self._block_diag(x, self.recurrent_gate_weight, self.recurrent_gate_bias))
        log_a = -8.0 * gate_a * F.softplus(self.recurrent_param)
        a = torch.exp(log_a)
        a_sq = torch.exp(2.0 * log_a)
        gated = x * gate_x
        reset = (pos == 0).unsqueeze(-1)
        mult = _SqrtBoundedGrad.apply(1.0 - a_sq)
        mult = torch.where(reset, torch.ones_like(mult), mult)
        a = torch.where(reset, torch.zeros_like(a), a)
        return linear_scan(a.float(), (gated * mult).float()).to(x.dtype)


class RecurrentBlock(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        D, L = cfg.width, cfg.lru_width
        self.linear_y = nn.Linear(D, L)
        self.linear_x = nn.Linear(D, L)
        self.linear_out = nn.Linear(L, D)
        self.conv_1d = DepthwiseConv(L, cfg.conv_width)
        self.rg_lru = RGLRU(L, cfg.num_heads)

    def forward(self, u, pos, seg_ids):
        y = gelu_tanh(self.linear_y(u))
        x = self.linear_x(u)
        x = self.conv_1d(x, seg_ids)
        h = self.rg_lru(x, pos)
        return self.linear_out(h * y)


def rope(x, pos, theta, fraction):
    """x: [B, T, ..., hd]; rotates the first `fraction` of the last dim with
    half-split pairs (i, i + r/2)."""
    hd = x.shape[-1]
    r = int(hd * fraction)
    half = r // 2
    inv_freq = (theta ** (-torch.arange(half, dtype=torch.float64) * 2.0 / r)).float()
    ang = pos.float().unsqueeze(-1) * inv_freq  # [B, T, half], f32 product
    while ang.dim() < x.dim():
        ang = ang.unsqueeze(-2)
    cos, sin = torch.cos(ang), torch.sin(ang)
    x1, x2, rest = x[..., :half], x[..., half:r], x[..., r:]
    return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin, rest], dim=-1)


class LocalAttentionBlock(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        D, H, hd = cfg.width, cfg.num_heads, cfg.head_dim
        self.num_heads, self.head_dim = H, hd
        self.window = cfg.attention_window
        self.theta = cfg.rope_theta
        self.fraction = cfg.partial_rotary_factor
        self.q_proj = nn.Linear(D, H * hd, bias=False)
        self.k_proj = nn.Linear(D, hd, bias=False)
        self.v_proj = nn.Linear(D, hd, bias=False)
        self.o_proj = nn.Linear(H * hd, D, bias=True)

    def forward(self, u, pos, seg_ids):
        B, T, _ = u.shape
        H, hd = self.num_heads, self.head_dim
        q = self.q_proj(u).reshape(B, T, H, hd)
        k = self.k_proj(u)
        v = self.v_proj(u)
        q = rope(q, pos, self.theta, self.fraction)
        k = rope(k, pos, self.theta, self.fraction)
        scores = torch.einsum("bthd,bsd->bhts", q, k) * (hd ** -0.5)
        t_idx = torch.arange(T).unsqueeze(1)
        s_idx = torch.arange(T).unsqueeze(0)
        visible = (s_idx <= t_idx) & (s_idx >= t_idx - self.window)  # [T, T]
        visible = visible.unsqueeze(0) & (seg_ids.unsqueeze(2) == seg_ids.unsqueeze(1))  # [B, T, T]
        scores = scores.masked_fill(~visible.unsqueeze(1), -2.3819763e38)
        probs = torch.softmax(scores.float(), dim=-1).to(v.dtype)
        o = torch.einsum("bhts,bsd->bthd", probs, v).reshape(B, T, H * hd)
        return self.o_proj(o)


class MLPBlock(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.gate_proj = nn.Linear(cfg.width, cfg.mlp_width)
        self.up_proj = nn.Linear(cfg.width, cfg.mlp_width)
        self.down_proj = nn.Linear(cfg.mlp_width, cfg.width)

    def forward(self, x):
        return self.down_proj(gelu_tanh(self.gate_proj(x)) * self.up_proj(x))


class ResidualBlock(nn.Module):
    def __init__(self, cfg, kind):
        super().__init__()
        self.kind = kind
        self.temporal_pre_norm = RMSNorm(cfg.width, cfg.rms_eps)
        self.temporal_block = RecurrentBlock(cfg) if kind == "recurrent" else LocalAttentionBlock(cfg)
        self.channel_pre_norm = RMSNorm(cfg.width, cfg.rms_eps)
        self.mlp_block = MLPBlock(cfg)

    def forward(self, x, pos, seg_ids):
        r = self.temporal_block(self.temporal_pre_norm(x), pos, seg_ids) + x
        return self.mlp_block(self.channel_pre_norm(r)) + r


class _Backbone(nn.Module):
    def __init__(self, cfg):
        super().__init__()
        self.embed_tokens = nn.Embedding(cfg.vocab_size, cfg.width)
        self.layers = nn.ModuleList(ResidualBlock(cfg, cfg.layer_type(i)) for i in range(cfg.num_layers))
        self.final_norm = RMSNorm(cfg.width, cfg.rms_eps)


class Griffin(nn.Module):
    """state_dict() keys are exactly the HF names (model.embed_tokens.weight, ...)."""

    def __init__(self, cfg):
        super().__init__()
        self.cfg = cfg
        self.model = _Backbone(cfg)
        # sqrt(width) rounded to bfloat16, as every reference does.
        self.emb_scale = float(torch.tensor(math.sqrt(cfg.width)).to(torch.bfloat16).float())

    def forward(self, tokens, positions=None, return_hidden=False, features_only=False):
        """tokens: [B, T] int64. positions (segment positions): [B, T], default
        0..T-1; a 0 starts a new document. Returns soft-capped logits [B, T, V]
        (and the list of hidden states if return_hidden), or with features_only
        the final-norm output [B, T, D] (feed it to capped_cross_entropy)."""
        if tokens.dim() == 1:
            tokens = tokens.unsqueeze(0)
        B, T = tokens.shape
        if positions is None:
            positions = torch.arange(T).unsqueeze(0).expand(B, T)
        elif positions.dim() == 1:
            positions = positions.unsqueeze(0).expand(B, T)
        seg_ids = torch.cumsum((positions == 0).long(), dim=1)
        m = self.model
        x = m.embed_tokens(tokens) * self.emb_scale
        hidden = [x]
        for layer in m.layers:
            x = layer(x, positions, seg_ids)
            hidden.append(x)
        x = m.final_norm(x)
        if features_only:
            return x
        hidden.append(x)
        logits = F.linear(x, m.embed_tokens.weight)
        cap = self.cfg.logits_soft_cap
        if cap > 0:
            logits = cap * torch.tanh(logits / cap)
        return (logits, hidden) if return_hidden else logits

    def num_parameters(self, embedding=True):
        n = sum(p.numel() for p in self.parameters())
        if not embedding:
            n -= self.model.embed_tokens.weight.numel()
        return n

    def load_hf_state(self, tensors, strict=True):
        own = self.state_dict()
        missing = [k for k in own if k not in tensors]
        unexpected = [k for k in tensors if k not in own and k != "lm_head.weight"]
        bad = [k for k in own if k in tensors and tuple(tensors[k].shape) != tuple(own[k].shape)]
        if strict and (missing or unexpected or bad):
            raise ValueError(f"checkpoint mismatch: missing={missing} unexpected={unexpected} "
                             f"bad_shape={bad}")
        self.load_state_dict({k: tensors[k] for k in own if k in tensors}, strict=strict)

    def hf_tensors(self):
        return {k: v.detach().clone() for k, v in self.state_dict().items()}


def load_model(model_dir):
    """Loads config.json + model.safetensors (HF layout) into a float32 Griffin."""
    import os
    cfg = load_config(os.path.join(model_dir, "config.json"))
    model = Griffin(cfg)
    model.load_hf_state(load_safetensors(os.path.join(model_dir, "model.safetensors")))
    model.eval()
    return model


# ----------------------------------------------------------------------------
# Initialisation for training from scratch (loosely following the Griffin
# paper's recipe: LeCun-normal linears, small output projections, RG-LRU
# decays with a^c in [0.9, 0.999]).
# ----------------------------------------------------------------------------

def init_weights(model, generator):
    cfg = model.cfg
    final_scale = 2.0 / cfg.num_layers

    def normal_(t, std):
        with torch.no_grad():
            t.copy_(torch.randn(t.shape, generator=generator) * std)

    m = model.model
    normal_(m.embed_tokens.weight, 1.0 / math.sqrt(cfg.width))
    for layer in m.layers:
        tb = layer.temporal_block
        mlp = layer.mlp_block
        for lin in (mlp.gate_proj, mlp.up_proj):
            normal_(lin.weight, 1.0 / math.sqrt(cfg.width))
            nn.init.zeros_(lin.bias)
        normal_(mlp.down_proj.weight, math.sqrt(final_scale / cfg.mlp_width))
        nn.init.zeros_(mlp.down_proj.bias)
        if layer.kind == "recurrent":
            for lin in (tb.linear_x, tb.linear_y):
                normal_(lin.weight, 1.0 / math.sqrt(cfg.width))
                nn.init.zeros_(lin.bias)
            normal_(tb.linear_out.weight, math.sqrt(final_scale / cfg.lru_width))
            nn.init.zeros_(tb.linear_out.bias)
            normal_(tb.conv_1d.weight, 1.0 / math.sqrt(cfg.conv_width))
            nn.init.zeros_(tb.conv_1d.bias)
            g = tb.rg_lru
            normal_(g.input_gate_weight, 1.0 / math.sqrt(g.bw))
            normal_(g.recurrent_gate_weight, 1.0 / math.sqrt(g.bw))
            nn.init.zeros_(g.input_gate_bias)
            nn.init.zeros_(g.recurrent_gate_bias)
            # Decay r (the value of a when the recurrence gate is fully open) with
            # r^2 uniform in [0.9^2, 0.999^2], as in the Griffin paper's recipe.
            with torch.no_grad():
                u = torch.rand(cfg.lru_width, generator=generator)
                rad = torch.sqrt(u * (0.999 ** 2 - 0.9 ** 2) + 0.9 ** 2)  # r in [0.9, 0.999]
                # At gate_a = 1: a = exp(-8 softplus(p)) should equal r, so
                # softplus(p) = -log(r) / 8  ->  p = log(expm1(-log(r) / 8)).
                sp = -torch.log(rad) / 8.0
                g.recurrent_param.copy_(torch.log(torch.expm1(sp)))
        else:
            for lin in (tb.q_proj, tb.k_proj, tb.v_proj):
                normal_(lin.weight, 1.0 / math.sqrt(cfg.width))
            normal_(tb.o_proj.weight, math.sqrt(final_scale / (cfg.num_heads * cfg.head_dim)))
            nn.init.zeros_(tb.o_proj.bias)
        nn.init.zeros_(layer.temporal_pre_norm.weight)
        nn.init.zeros_(layer.channel_pre_norm.weight)
    nn.init.zeros_(m.final_norm.weight)
