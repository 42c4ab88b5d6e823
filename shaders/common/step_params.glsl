// SPDX-License-Identifier: Apache-2.0
// The per-token values of a forward pass (StepParams in engine/src/vulkan/push_constants.h): one
// ivec4 per token of the batch, written by the host before each submit. Shaders that depend on
// the token or its position read them here instead of from push constants, so a recorded
// command buffer (the decode step's) can be replayed for every token.
#ifndef GRIFFIN_STEP_PARAMS_GLSL
#define GRIFFIN_STEP_PARAMS_GLSL

const uint kParamToken = 0u;     // token id
const uint kParamPosition = 1u;  // position in the sequence (0 resets the RG-LRU)

#endif
