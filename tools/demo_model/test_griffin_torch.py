#!/usr/bin/python3
# SPDX-License-Identifier: Apache-2.0
"""Checks for griffin_torch.py (needs python3-torch and python3-numpy; not in the default CI).

1. Conformance: the full-sequence forward pass on the tiny-public checkpoints
   (model-f32 and model-bf16) against the reference golden vectors
   (prefill logits <= 1e-3, plus hidden states, final norm and the
   document-boundary case).
2. safetensors writer/reader round trip (F32 exact, BF16 = round-to-nearest-even).
3. Torch vs the C++ engine: `griffin logits --mode prefill` on an exported model
   (default resources/models/demo) and on the conformance checkpoint, compared
   with the torch forward on the same tokens (<= 1e-3).

  /usr/bin/python3 tools/demo_model/test_griffin_torch.py [--griffin build/app/griffin]
      [--model resources/models/demo ...] [--no-engine]
Exits non-zero on any failure.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

os.environ.setdefault("OMP_NUM_THREADS", "1")
import numpy as np  # noqa: E402
import torch  # noqa: E402

torch.set_num_threads(1)
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, HERE)
import griffin_torch as G  # noqa: E402

DEFAULT_CONF = "/work/shared/conformance/tiny-public"
failures = []


def check(name, err, tol):
    ok = err <= tol
    print(f"{'PASS' if ok else 'FAIL'} {name}: max abs error {err:.3g} (tolerance {tol:g})")
    if not ok:
        failures.append(name)
    return err


def golden(conf, dtype, name, shape):
    return np.fromfile(os.path.join(conf, f"golden-{dtype}", name), dtype="<f4").reshape(shape)


def conformance(conf):
    man = json.load(open(os.path.join(conf, "manifest.json")))
    errs = {}
    for dtype in ("f32", "bf16"):
        model = G.load_model(os.path.join(conf, f"model-{dtype}"))
        cfg = model.cfg
        case = man["cases"]["prefill"]
        toks = torch.tensor(case["tokens"])
        T = len(toks)
        with torch.no_grad():
            logits, hidden = model(toks, return_hidden=True)
        errs[dtype] = check(f"conformance {dtype} prefill_logits",
                            float(np.abs(logits[0].numpy() - golden(conf, dtype, "prefill_logits.bin", (T, cfg.vocab_size))).max()), 1e-3)
        hs = golden(conf, dtype, "hidden_states.bin", (cfg.num_layers + 1, T, cfg.width))
        check(f"conformance {dtype} hidden_states",
              max(float(np.abs(hidden[i][0].numpy() - hs[i]).max()) for i in range(cfg.num_layers + 1)), 2e-3)
        check(f"conformance {dtype} final_norm_output",
              float(np.abs(hidden[-1][0].numpy() - golden(conf, dtype, "final_norm_output.bin", (T, cfg.width))).max()), 2e-3)
        seg = man["cases"].get("segments")
        if seg:
            with torch.no_grad():
                lg = model(torch.tensor(seg["tokens"]), positions=torch.tensor(seg["segment_pos"]))
            check(f"conformance {dtype} segments_logits",
                  float(np.abs(lg[0].numpy() - golden(conf, dtype, "segments_logits.bin", (T, cfg.vocab_size))).max()), 1e-3)
    return errs


def safetensors_roundtrip():
    g = torch.Generator().manual_seed(5)
    t = {"a.weight": torch.randn(3, 5, generator=g) * 100, "b": torch.randn(7, generator=g)}
    with tempfile.TemporaryDirectory() as d:
        p = os.path.join(d, "x.safetensors")
        G.save_safetensors(p, t, dtype="F32")
        back = G.load_safetensors(p)
        check("safetensors F32 round trip", max(float((back[k] - t[k]).abs().max()) for k in t), 0.0)
        G.save_safetensors(p, t, dtype="BF16")
        back = G.load_safetensors(p)
        check("safetensors BF16 round trip",
              max(float((back[k] - t[k].to(torch.bfloat16).float()).abs().max()) for k in t), 0.0)


def engine_vs_torch(griffin, model_dir, tokens, mode="prefill"):
    model = G.load_model(model_dir)
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "logits.npy")
        cmd = [griffin, "logits", "--model", model_dir, "--tokens", ",".join(map(str, tokens)),
               "--mode", mode, "--out", out]
        res = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        if res.returncode != 0:
            print(f"FAIL engine {model_dir}: {' '.join(cmd)}\n{res.stderr.decode(errors='replace')}")
            failures.append(f"engine {model_dir}")
            return None
        eng = np.load(out)
    with torch.no_grad():
        ref = model(torch.tensor(tokens))[0].numpy()
    if eng.shape != ref.shape or eng.dtype != np.float32:
        print(f"FAIL engine {model_dir}: shape/dtype {eng.shape} {eng.dtype}, expected {ref.shape} float32")
        failures.append(f"engine {model_dir}")
        return None
    return check(f"engine vs torch {os.path.relpath(model_dir, ROOT) if model_dir.startswith(ROOT) else model_dir} "
                 f"({len(tokens)} tokens, --mode {mode})", float(np.abs(eng - ref).max()), 1e-3)


def engine_tokens(model_dir, n):
    """Validation tokens of an exported demo model, else a fixed pseudo-random sequence."""
    vs = os.path.join(model_dir, "validation_sample.json")
    if os.path.exists(vs):
        return json.load(open(vs))["tokens"][:n]
    vocab = G.load_config(os.path.join(model_dir, "config.json")).vocab_size
    rng = np.random.default_rng(7)
    return [2] + [int(v) for v in rng.integers(3, vocab, n - 1)]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--conformance", default=DEFAULT_CONF, help="tiny-public folder")
    ap.add_argument("--griffin", default=os.path.join(ROOT, "build", "app", "griffin"))
    ap.add_argument("--model", action="append", help="exported model folder(s) to compare with the engine "
                    "(default: resources/models/demo)")
    ap.add_argument("--tokens", type=int, default=300, help="sequence length for the engine comparison")
    ap.add_argument("--no-engine", action="store_true", help="skip the engine comparisons")
    args = ap.parse_args()

    conformance(args.conformance)
    safetensors_roundtrip()
    if not args.no_engine:
        if not os.path.exists(args.griffin):
            print(f"FAIL engine: {args.griffin} not found (build it, pass --griffin, or use --no-engine)")
            failures.append("engine binary")
        else:
            models = args.model or [os.path.join(ROOT, "resources", "models", "demo")]
            for m in models:
                if not os.path.exists(os.path.join(m, "model.safetensors")):
                    print(f"FAIL engine: no model.safetensors in {m}")
                    failures.append(f"engine {m}")
                    continue
                engine_vs_torch(args.griffin, m, engine_tokens(m, args.tokens))
            conf_model = os.path.join(args.conformance, "model-f32")
            engine_vs_torch(args.griffin, conf_model, engine_tokens(conf_model, 40))
            engine_vs_torch(args.griffin, conf_model, engine_tokens(conf_model, 40), mode="step")
    if failures:
        print(f"{len(failures)} check(s) failed: {', '.join(failures)}")
        return 1
    print("all checks passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
