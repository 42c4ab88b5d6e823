#!/usr/bin/env bash
# Rebuilds the small SentencePiece models under tests/data/tokenizers from the corpora there,
# with Debian's spm_train (package sentencepiece). Gemma-like settings: BPE, no dummy prefix,
# identity normalisation, <pad>/<eos>/<bos>/<unk> at ids 0..3 and the turn markers as
# user-defined pieces.
#   tiny256.model: 256 pieces, English only, no byte fallback (fits the conformance model)
#   multi.model:   1000 pieces with byte fallback (round trips any UTF-8)
set -euo pipefail
cd "$(dirname "$0")/../tests/data/tokenizers"
common=(--model_type=bpe --pad_id=0 --eos_id=1 --bos_id=2 --unk_id=3
        --pad_piece='<pad>' --eos_piece='<eos>' --bos_piece='<bos>' --unk_piece='<unk>'
        --user_defined_symbols='<start_of_turn>,<end_of_turn>'
        --add_dummy_prefix=false --remove_extra_whitespaces=false
        --normalization_rule_name=identity --split_digits=true --num_threads=1
        --hard_vocab_limit=false --minloglevel=2)
spm_train --input=corpus-en.txt --model_prefix=tiny256 --vocab_size=256 \
    --character_coverage=1.0 "${common[@]}"
spm_train --input=corpus-multi.txt --model_prefix=multi --vocab_size=1000 \
    --character_coverage=1.0 --byte_fallback=true "${common[@]}"
rm -f tiny256.vocab multi.vocab
