// SPDX-License-Identifier: Apache-2.0
// Weight formats packed in 32-bit words (vulkan-backend.md §8.5). A matrix is row-major
// [rows, cols]; each row starts on a word boundary, `strideWords` words apart:
//   f32:  one value per word;
//   bf16: two values per word, element 2i in the low half, 2i+1 in the high half;
//   f16:  two IEEE halves per word, same order (unpackHalf2x16, core GLSL);
//   q8_0 / q4_0 (blocks of 32 values, repacked from GGUF on upload): a row of nb = cols / 32
//         blocks is nb f32 scale words, then the quants: 8 words per block for q8_0 (int8,
//         element 4j+k in byte k of word j), 4 words for q4_0 (the 16 GGUF bytes as they are:
//         byte j holds element j in its low nibble and j + 16 in its high nibble, value
//         (nibble - 8) * scale).
// The including shader declares `layout(constant_id = 1) const uint kFormat`.
#ifndef GRIFFIN_WEIGHTS_GLSL
#define GRIFFIN_WEIGHTS_GLSL

const uint kFormatF32 = 0u;
const uint kFormatBf16 = 1u;
const uint kFormatF16 = 2u;
const uint kFormatQ8_0 = 3u;
const uint kFormatQ4_0 = 4u;

bool isBlockFormat(uint format) {
    return format == kFormatQ8_0 || format == kFormatQ4_0;
}

// Quant words per 32-value block.
uint blockQuantWords(uint format) {
    return format == kFormatQ8_0 ? 8u : 4u;
}

// Word holding element `col` (0..31 within its block) of a block whose quants start at word
// `quantBase`, and the element decoded from it (before the scale).
uint blockWordIndex(uint quantBase, uint i, uint format) {
    return format == kFormatQ8_0 ? quantBase + (i >> 2u) : quantBase + ((i & 15u) >> 2u);
}
float decodeBlockQuant(uint word, uint i, uint format) {
    if (format == kFormatQ8_0)
        return float(bitfieldExtract(int(word), int(8u * (i & 3u)), 8));
    const uint byteValue = (word >> (8u * (i & 3u))) & 0xffu;
    return float(i < 16u ? (byteValue & 15u) : (byteValue >> 4u)) - 8.0;
}

// Word holding element `col` of the row that starts at word `rowBase`.
uint weightWordIndex(uint rowBase, uint col, uint format) {
    return format == kFormatF32 ? rowBase + col : rowBase + (col >> 1u);
}

// Element `col` decoded from the word that holds it.
float decodeWeight(uint word, uint col, uint format) {
    if (format == kFormatF32)
        return uintBitsToFloat(word);
    const bool high = (col & 1u) == 1u;
    if (format == kFormatBf16)
        return uintBitsToFloat(high ? (word & 0xffff0000u) : (word << 16u));
    const vec2 pair = unpackHalf2x16(word);
    return high ? pair.y : pair.x;
}

#endif
