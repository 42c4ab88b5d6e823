// SPDX-License-Identifier: Apache-2.0
// Sampler: picks the next token from logits — greedy, temperature, top-k, top-p, min-p and a
// repetition penalty — with a seeded generator so a run can be reproduced exactly.
#pragma once

#include <cstdint>
#include <random>
#include <span>
#include <vector>

namespace griffin {

// Plain value type. Defaults are a product choice (griffin-spec.md §6: no official
// recommendation); temperature 0 means greedy.
struct SamplingParams {
    float temperature = 0.8f;    // 0 = greedy (argmax)
    int32_t topK = 64;           // 0 = off
    float topP = 0.95f;          // 1 = off; keep the smallest set whose mass reaches topP
    float minP = 0.0f;           // 0 = off; drop tokens below minP * p(most likely)
    float repeatPenalty = 1.0f;  // 1 = off; > 1 lowers tokens seen in the last repeatWindow
    int32_t repeatWindow = 64;   // recent tokens the penalty looks at
    uint64_t seed = 0;
    int32_t topAlternatives = 0;  // how many alternatives to report with each choice
};

struct TokenProbability {
    int32_t id = 0;
    float probability = 0.0f;
};

struct SampledToken {
    int32_t id = 0;
    // Probability of `id` under the distribution it was drawn from (after penalty, temperature
    // and truncation; for greedy the softmax of the penalised logits).
    float probability = 0.0f;
    // The most likely tokens, most likely first (params.topAlternatives of them), with their
    // probability under the same distribution as `probability` (zero when truncation removed
    // them).
    std::vector<TokenProbability> alternatives;
};

// Not thread-safe (it owns the random generator).
class Sampler {
public:
    // `vocabLimit`: ids >= vocabLimit are never chosen (embedding rows past the tokenizer).
    Sampler(const SamplingParams& params, int32_t vocabLimit);

    // Requires: logits.size() >= vocabLimit. `recent` are the latest tokens of the sequence (for
    // the repetition penalty; only the last repeatWindow are used).
    SampledToken sample(std::span<const float> logits, std::span<const int32_t> recent);
    // The same distribution, but `forced` is taken instead of drawing (no random number is
    // used): its probability under the distribution (zero when truncation removed it) and the
    // alternatives are reported as for a sampled token.
    SampledToken force(std::span<const float> logits, std::span<const int32_t> recent,
                       int32_t forced);

    const SamplingParams& params() const { return m_params; }

private:
    SampledToken choose(std::span<const float> logits, std::span<const int32_t> recent,
                        int32_t forced);  // forced < 0: draw
    double uniform();                     // in [0, 1), identical on every platform for a given seed
    SamplingParams m_params;
    int32_t m_vocabLimit;
    std::mt19937_64 m_rng;
    std::vector<float> m_work;
    std::vector<int32_t> m_order;
};

}  // namespace griffin
