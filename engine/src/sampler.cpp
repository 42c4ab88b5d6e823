// SPDX-License-Identifier: Apache-2.0
#include "griffin/sampler.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_set>

namespace griffin {

Sampler::Sampler(const SamplingParams& params, int32_t vocabLimit)
    : m_params(params), m_vocabLimit(std::max(1, vocabLimit)), m_rng(params.seed) {}

double Sampler::uniform() {
    // 53 random bits; std::uniform_real_distribution is not specified bit-exactly.
    return static_cast<double>(m_rng() >> 11) * 0x1.0p-53;
}

SampledToken Sampler::sample(std::span<const float> logits, std::span<const int32_t> recent) {
    return choose(logits, recent, -1);
}

SampledToken Sampler::force(std::span<const float> logits, std::span<const int32_t> recent,
                            int32_t forced) {
    return choose(logits, recent, std::clamp(forced, 0, m_vocabLimit - 1));
}

SampledToken Sampler::choose(std::span<const float> logits, std::span<const int32_t> recent,
                             int32_t forced) {
    const size_t n = static_cast<size_t>(m_vocabLimit);
    m_work.assign(logits.begin(), logits.begin() + static_cast<ptrdiff_t>(n));

    // Repetition penalty (CTRL-style): divide positive logits, multiply negative ones.
    if (m_params.repeatPenalty != 1.0f && m_params.repeatWindow > 0) {
        const size_t window = std::min(recent.size(), static_cast<size_t>(m_params.repeatWindow));
        std::unordered_set<int32_t> seen(recent.end() - static_cast<ptrdiff_t>(window),
                                         recent.end());
        for (int32_t id : seen) {
            if (id < 0 || id >= m_vocabLimit)
                continue;
            float& l = m_work[static_cast<size_t>(id)];
            l = l > 0 ? l / m_params.repeatPenalty : l * m_params.repeatPenalty;
        }
    }

    const bool greedy = m_params.temperature <= 0.0f;
    const float temperature = greedy ? 1.0f : m_params.temperature;
    // Softmax of logits / temperature, in double for the normaliser.
    const float maxLogit = *std::max_element(m_work.begin(), m_work.end());
    double sum = 0.0;
    for (float& l : m_work) {
        l = static_cast<float>(std::exp(static_cast<double>(l - maxLogit) / temperature));
        sum += l;
    }
    for (float& p : m_work) p = static_cast<float>(p / sum);

    // Candidates by descending probability (ties: lower id first, so results are deterministic).
    const size_t keepForReport = static_cast<size_t>(std::max(0, m_params.topAlternatives));
    size_t candidates = n;
    if (!greedy && m_params.topK > 0)
        candidates = std::min(n, static_cast<size_t>(m_params.topK));
    const size_t sortCount =
        std::max(std::min(n, std::max(keepForReport, size_t{1})), greedy ? size_t{1} : candidates);
    m_order.resize(n);
    std::iota(m_order.begin(), m_order.end(), 0);
    auto byProbability = [&](int32_t a, int32_t b) {
        const float pa = m_work[static_cast<size_t>(a)], pb = m_work[static_cast<size_t>(b)];
        return pa > pb || (pa == pb && a < b);
    };
    std::partial_sort(m_order.begin(), m_order.begin() + static_cast<ptrdiff_t>(sortCount),
                      m_order.end(), byProbability);

    SampledToken result;
    if (greedy) {
        // Greedy takes the most likely token; probabilities are the model's (softmax of the
        // penalised logits), which is what the choice ranks by.
        for (size_t i = 0; i < std::min(keepForReport, n); ++i) {
            result.alternatives.push_back({m_order[i], m_work[static_cast<size_t>(m_order[i])]});
        }
        result.id = forced >= 0 ? forced : m_order[0];
        result.probability = m_work[static_cast<size_t>(result.id)];
        return result;
    }

    // Truncation: top-k (above), then top-p over the sorted candidates, then min-p.
    const float best = m_work[static_cast<size_t>(m_order[0])];
    double mass = 0.0;
    size_t kept = 0;
    for (; kept < candidates; ++kept) {
        const float p = m_work[static_cast<size_t>(m_order[kept])];
        if (kept > 0 && m_params.minP > 0.0f && p < m_params.minP * best)
            break;
        mass += p;
        if (m_params.topP < 1.0f && mass >= m_params.topP) {
            ++kept;
            break;
        }
    }
    kept = std::max<size_t>(kept, 1);
    double keptMass = 0.0;
    for (size_t i = 0; i < kept; ++i) keptMass += m_work[static_cast<size_t>(m_order[i])];

    // Alternatives carry their probability under the distribution actually sampled from: the
    // kept candidates renormalised, zero for those truncation removed (still listed, in order).
    for (size_t i = 0; i < std::min(keepForReport, n); ++i) {
        const float p = i < kept
                            ? static_cast<float>(m_work[static_cast<size_t>(m_order[i])] / keptMass)
                            : 0.0f;
        result.alternatives.push_back({m_order[i], p});
    }

    if (forced >= 0) {
        result.id = forced;
        result.probability = 0.0f;
        for (size_t i = 0; i < kept; ++i) {
            if (m_order[i] == forced) {
                result.probability =
                    static_cast<float>(m_work[static_cast<size_t>(forced)] / keptMass);
            }
        }
        return result;
    }

    double r = uniform() * keptMass;
    size_t chosen = kept - 1;
    for (size_t i = 0; i < kept; ++i) {
        r -= m_work[static_cast<size_t>(m_order[i])];
        if (r < 0.0) {
            chosen = i;
            break;
        }
    }
    result.id = m_order[chosen];
    result.probability = static_cast<float>(m_work[static_cast<size_t>(result.id)] / keptMass);
    return result;
}

}  // namespace griffin
