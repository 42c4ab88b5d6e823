// SPDX-License-Identifier: Apache-2.0
#include "griffin/sampler.h"

#include <algorithm>
#include <bit>
#include <cmath>
#include <limits>
#include <numeric>
#include <unordered_set>

#include "cpu/ops.h"

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
    // Softmax of logits / temperature. The exponentials are the CPU backend's vectorised ones
    // (relative error under 1.2e-7): libm's, in double, took about 1 ms of a 256,000 vocabulary.
    float maxLogit = m_work[0];
    for (float l : m_work) maxLogit = std::max(maxLogit, l);
    const float invTemperature = 1.0f / temperature;
    for (float& l : m_work) l = (l - maxLogit) * invTemperature;
    const float sum = cpu::expShifted(m_work.data(), static_cast<int64_t>(n), 0.0f);
    const float invSum = 1.0f / sum;
    for (float& p : m_work) p *= invSum;

    // Candidates by descending probability (ties: lower id first, so results are deterministic):
    // m_order[0, candidates) sorted, the rest unordered.
    const size_t keepForReport = static_cast<size_t>(std::max(0, m_params.topAlternatives));
    const size_t reported = std::min(keepForReport, n);
    auto byProbability = [&](int32_t a, int32_t b) {
        const float pa = m_work[static_cast<size_t>(a)], pb = m_work[static_cast<size_t>(b)];
        return pa > pb || (pa == pb && a < b);
    };
    size_t candidates = n;
    if (!greedy && m_params.topK > 0)
        candidates = std::min(n, static_cast<size_t>(m_params.topK));
    const bool topP = m_params.topP < 1.0f;
    const bool minP = m_params.minP > 0.0f;
    if (!greedy && m_params.topK <= 0 && (topP || minP)) {
        // Top-p / min-p without top-k: only the tokens either could keep are sorted. Top-p: the
        // probabilities' mass per range of magnitude (a quarter octave: the float's exponent and
        // two mantissa bits), summed from the top down to the range where it reaches topP; the
        // kept set lies in and above that range (one range lower as a margin for rounding).
        // Min-p keeps none below minP * p(most likely).
        const float best = m_work[static_cast<size_t>(
            std::max_element(m_work.begin(), m_work.end()) - m_work.begin())];
        float floor = 0.0f;
        if (topP) {
            constexpr int kShift = 21, kRanges = 1 << (31 - kShift);
            std::vector<double> mass(kRanges, 0.0);
            for (float p : m_work)
                mass[static_cast<size_t>(std::bit_cast<uint32_t>(p) >> kShift)] += p;
            double above = 0.0;
            int range = kRanges - 1;
            for (; range > 0; --range) {
                above += mass[static_cast<size_t>(range)];
                if (above >= m_params.topP)
                    break;
            }
            range = std::max(0, range - 1);
            floor = std::bit_cast<float>(static_cast<uint32_t>(range) << kShift);
        }
        if (minP)
            floor = std::max(floor, m_params.minP * best);
        floor = std::min(floor, best);  // the most likely token is always a candidate
        m_order.clear();
        for (size_t i = 0; i < n; ++i) {
            if (m_work[i] >= floor)
                m_order.push_back(static_cast<int32_t>(i));
        }
        const size_t sure = m_order.size();
        // The alternatives may reach past them: the rest follow, unordered.
        for (size_t i = 0; i < n; ++i) {
            if (m_work[i] < floor)
                m_order.push_back(static_cast<int32_t>(i));
        }
        const size_t sorted = std::max(sure, reported);
        std::partial_sort(m_order.begin(), m_order.begin() + static_cast<ptrdiff_t>(sorted),
                          m_order.end(), byProbability);
        candidates = sure;
    } else if (!greedy && m_params.topK <= 0) {
        // No truncation: every token is a candidate and the draw needs no order (ids ascending);
        // only the reported alternatives are ranked, apart.
        m_order.resize(n);
        std::iota(m_order.begin(), m_order.end(), 0);
    } else {
        const size_t sortCount =
            std::max(std::max(reported, size_t{1}), greedy ? size_t{1} : candidates);
        m_order.resize(n);
        std::iota(m_order.begin(), m_order.end(), 0);
        std::partial_sort(m_order.begin(), m_order.begin() + static_cast<ptrdiff_t>(sortCount),
                          m_order.end(), byProbability);
    }
    const bool unordered = !greedy && m_params.topK <= 0 && !topP && !minP;
    std::vector<int32_t> ranked;  // the reported alternatives, when m_order is not ranked
    if (unordered && reported > 0) {
        ranked.resize(n);
        std::iota(ranked.begin(), ranked.end(), 0);
        std::partial_sort(ranked.begin(), ranked.begin() + static_cast<ptrdiff_t>(reported),
                          ranked.end(), byProbability);
        ranked.resize(reported);
    }
    const std::vector<int32_t>& top = unordered ? ranked : m_order;

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
    for (size_t i = 0; i < reported; ++i) {
        // Ranked alternatives past the kept prefix were cut (the unordered case keeps all).
        const bool keptOne = unordered || i < kept;
        const float p =
            keptOne ? static_cast<float>(m_work[static_cast<size_t>(top[i])] / keptMass) : 0.0f;
        result.alternatives.push_back({top[i], p});
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
