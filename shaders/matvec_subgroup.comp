// SPDX-License-Identifier: Apache-2.0
// matvec_subgroup: matvec.comp's product (same bindings, push constants, epilogue and order of
// columns) with one row per subgroup instead of one per workgroup: the lanes of a subgroup
// split the row and subgroupAdd sums them, with no shared memory and no barriers. Far fewer
// workgroups, and no workgroup barriers (lavapipe runs those slowly, and GPUs pay for them too).
// Needs subgroup arithmetic (DeviceCaps::subgroupArithmetic).
// Dispatch: gx x gy x 1 workgroups, gx * gy * R >= rows (R = rows per workgroup, spec constant
// 3); workgroup g owns rows [g * R, g * R + R), which its subgroups take in turn, so any
// subgroup size works. Each column's sum runs in the same order as a single-column call.
// Bindings and push constants: as matvec.comp.
// Specialization constants: 0 = workgroup size WG, 1 = weight format, 2 = multi-column,
// 3 = rows per workgroup R.
#version 450
#extension GL_GOOGLE_include_directive : require
#extension GL_KHR_shader_subgroup_basic : require
#extension GL_KHR_shader_subgroup_arithmetic : require
#include "matvec.glsl"

layout(local_size_x_id = 0) in;
layout(constant_id = 3) const uint kRowsPerGroup = 1u;

void main() {
    const uint group = gl_WorkGroupID.y * gl_NumWorkGroups.x + gl_WorkGroupID.x;
    const uint columns = kMultiColumn != 0u ? pc.columns : 1u;
    for (uint r = gl_SubgroupID; r < kRowsPerGroup; r += gl_NumSubgroups) {
        const uint row = group * kRowsPerGroup + r;
        if (row >= pc.rows)
            break;  // uniform across the subgroup
        const uint rowBase = row * pc.strideWords;
        for (uint t = 0u; t < columns; ++t) {
            const float sum = subgroupAdd(
                rowDot(rowBase, t * pc.xStride, gl_SubgroupInvocationID, gl_SubgroupSize));
            if (subgroupElect())
                storeRow(row, t, sum);
        }
    }
}
