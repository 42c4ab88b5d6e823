#!/usr/bin/env bash
# griffin-chat --smoke-test end to end: the real window (offscreen or under xvfb-run), a model
# folder, a reply saved to disk. Usage: smoke_test.sh GRIFFIN_CHAT CONFORMANCE_DIR TOKENIZER [MODEL]
# Without MODEL, the tiny conformance model with the test tokenizer is used.
set -euo pipefail
app=$1 conformance=$2 tokenizer=$3 model=${4:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ -z "$model" ]; then
    model=$work/model
    mkdir -p "$model"
    cp "$conformance/tiny-public/model-f32/config.json" "$conformance/tiny-public/model-f32/model.safetensors" "$model/"
    cp "$tokenizer" "$model/tokenizer.model"
fi
mkdir -p "$work/config/griffin-chat"
# Greedy with a short limit: reproducible and quick.
echo '{"sampling": {"temperature": 0, "max_tokens": 24}}' > "$work/config/griffin-chat/settings.json"
export XDG_DATA_HOME=$work/data XDG_CONFIG_HOME=$work/config XDG_RUNTIME_DIR=$work/runtime
mkdir -p "$XDG_RUNTIME_DIR" && chmod 700 "$XDG_RUNTIME_DIR"
"$app" --model "$model" --smoke-test "the quick brown fox" --screenshot "$work/shot.png" > "$work/out.txt"
test -s "$work/out.txt" || { echo "no reply printed"; exit 1; }
test -s "$work/shot.png" || { echo "no screenshot"; exit 1; }
files=("$work"/data/griffin-chat/conversations/*.json)
test -f "${files[0]}" || { echo "no conversation saved"; exit 1; }
grep -q '"the quick brown fox"' "${files[0]}" || { echo "the saved conversation lacks the prompt"; exit 1; }
echo "smoke test passed: $(head -c 200 "$work/out.txt")"
