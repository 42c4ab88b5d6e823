// SPDX-License-Identifier: Apache-2.0
// Weight formats packed in 32-bit words (vulkan-backend.md §8.5). A matrix is row-major
// [rows, cols]; each row starts on a word boundary, `strideWords` words apart:
//   f32:  one value per word;
//   bf16: two values per word, element 2i in the low half, 2i+1 in the high half;
//   f16:  two IEEE halves per word, same order (unpackHalf2x16, core GLSL).
// The including shader declares `layout(constant_id = 1) const uint kFormat`.
#ifndef GRIFFIN_WEIGHTS_GLSL
#define GRIFFIN_WEIGHTS_GLSL

const uint kFormatF32 = 0u;
const uint kFormatBf16 = 1u;
const uint kFormatF16 = 2u;

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
