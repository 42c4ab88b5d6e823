// SPDX-License-Identifier: Apache-2.0
// The base of the Vulkan op suites (vulkan_ops_test, vulkan_matvec_test): a validated lavapipe
// device, skipped where there is none, of the subgroup size CTest asked for; after each test, any
// validation message fails it. The suites' own tests are private slots of a subclass.
#pragma once

#include <memory>
#include <string>

#include <QObject>
#include <QtTest>

#include "cpu/thread_pool.h"
#include "vulkan_test_support.h"

namespace griffin::test {

class VulkanOpSuite : public QObject {
    Q_OBJECT

protected:
    std::unique_ptr<VulkanRig> m_rig;
    cpu::ThreadPool m_pool{1};  // the CPU reference ops

private slots:
    void initTestCase() {
        std::string why;
        m_rig = VulkanRig::make(&why);
        if (!m_rig)
            QSKIP(qPrintable(QString("no Vulkan device: ") + why.c_str()));
        qInfo("device: %s", vulkan::describeDevice(m_rig->context->caps()).c_str());
        const QString problem = m_rig->opSuiteProblem();
        QVERIFY2(problem.isEmpty(), qPrintable(problem));
    }

    void cleanup() {
        if (m_rig)
            QVERIFY2(m_rig->takeValidationMessages(), "the validation layer reported messages");
    }

    void cleanupTestCase() { m_rig.reset(); }
};

}  // namespace griffin::test
