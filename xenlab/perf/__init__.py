"""Relative performance (chapter 12): the SOSP'03 numbers (``paper``), a cost model of the four
platforms calibrated on the micro-benchmarks (``costs``), the macro-benchmarks as operation mixes
measured on the model (``workloads``) and the prediction of Figure 3 from them (``predict``).

``from xenlab import perf`` keeps the old names: data(), fig3(), relative(), fig3_text(), lmbench(),
measure(), measure_text().
"""
from xenlab.perf.paper import (  # noqa: F401
                               MS,
                               data,
                               fig3,
                               fig3_text,
                               kernel_build_like,
                               lmbench,
                               measure,
                               measure_text,
                               relative,
)
