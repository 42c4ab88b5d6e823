// SPDX-License-Identifier: Apache-2.0
// The thread pool's parallelFor: every index run exactly once, in ranges at least a grain long,
// on 1 to 5 threads; with one thread held up (its share must be
// stolen and still run once); and over thousands of jobs back to back, where a thread still
// looking for work of one job can meet the next one's shares.
#include "cpu/thread_pool.h"

#include <atomic>
#include <chrono>
#include <random>
#include <thread>
#include <vector>

#include <QtTest>

using namespace griffin;

namespace {

// Runs parallelFor(n, grain) and checks that each index was visited once.
void checkOnce(cpu::ThreadPool& pool, int64_t n, int64_t grain, bool holdUpWorkers = false) {
    std::vector<std::atomic<int>> visits(static_cast<size_t>(n));
    std::atomic<int64_t> shortRanges{0}, byCaller{0}, ranges{0};
    const std::thread::id caller = std::this_thread::get_id();
    pool.parallelFor(n, grain, [&](int64_t begin, int64_t end) {
        QVERIFY(0 <= begin && begin < end && end <= n);
        ranges.fetch_add(1);
        if (end - begin < std::min(grain, n))
            shortRanges.fetch_add(1);
        if (std::this_thread::get_id() == caller)
            byCaller.fetch_add(end - begin);
        else if (holdUpWorkers)
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        for (int64_t i = begin; i < end; ++i) visits[static_cast<size_t>(i)].fetch_add(1);
    });
    for (int64_t i = 0; i < n; ++i) {
        if (visits[static_cast<size_t>(i)].load() != 1)
            QFAIL(qPrintable(QString("n %1 grain %2 on %3 threads: index %4 run %5 times")
                                 .arg(n)
                                 .arg(grain)
                                 .arg(pool.size())
                                 .arg(i)
                                 .arg(visits[static_cast<size_t>(i)].load())));
    }
    // One thread, or under two grains: a single call.
    if (pool.size() == 1 || n < 2 * grain)
        QCOMPARE(ranges.load(), int64_t{1});
    // Held-up workers: the caller must have run more than its own share.
    if (holdUpWorkers)
        QVERIFY2(byCaller.load() > n / pool.size(),
                 qPrintable(QString("the caller ran %1 of %2").arg(byCaller.load()).arg(n)));
    QVERIFY2(shortRanges.load() == 0,
             qPrintable(QString("%1 ranges under the grain").arg(shortRanges.load())));
}

}  // namespace

class ThreadPoolTest : public QObject {
    Q_OBJECT

private slots:
    void everyIndexRunsOnce() {
        std::mt19937 rng(3);
        for (int threads = 1; threads <= 5; ++threads) {
            cpu::ThreadPool pool(threads);
            for (int64_t n : {1, 2, 3, 7, 64, 1000, 4099, 100000}) {
                for (int64_t grain : {1, 3, 8, 4096}) checkOnce(pool, n, grain);
            }
        }
    }

    // Workers sleep in every range they run: the caller steals their shares' back halves, and
    // they steal back, until everything has run once.
    void heldUpThreadsAreStolenFrom() {
        for (int threads : {2, 3, 5}) {
            cpu::ThreadPool pool(threads);
            checkOnce(pool, 5000, 4, true);
            checkOnce(pool, 97, 1, true);
        }
    }

    // Jobs back to back, of random sizes, with ranges of random cost: workers finishing one job
    // race the posting of the next.
    void jobsBackToBack() {
        std::mt19937 rng(11);
        for (int threads : {2, 3, 4}) {
            cpu::ThreadPool pool(threads);
            for (int job = 0; job < 3000; ++job) {
                const int64_t n = std::uniform_int_distribution<int64_t>(1, 3000)(rng);
                const int64_t grain = std::uniform_int_distribution<int64_t>(1, 64)(rng);
                std::atomic<int64_t> sum{0}, count{0};
                pool.parallelFor(n, grain, [&](int64_t begin, int64_t end) {
                    volatile int64_t spin = 0;
                    for (int64_t i = begin; i < end; ++i) {
                        sum.fetch_add(i, std::memory_order_relaxed);
                        for (int k = 0; k < static_cast<int>(i % 7) * 10; ++k) spin = spin + k;
                    }
                    count.fetch_add(end - begin, std::memory_order_relaxed);
                });
                QCOMPARE(count.load(), n);
                QCOMPARE(sum.load(), n * (n - 1) / 2);
            }
        }
    }
};

QTEST_APPLESS_MAIN(ThreadPoolTest)
#include "thread_pool_test.moc"
