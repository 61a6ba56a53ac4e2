"""Workload configurations, one module per workload family, in the order of RESULTS.md.

Each module follows ``bench.harness.workload`` and imports only the harness, problems and
adapters: never another workload.
"""

MODULES = (
    "per_task",                 # 1
    "gram_bound",               # 2 and 5
    "shared_design",            # 3
    "school",                   # 4
    "classification_dense",     # C1, C2
    "classification_sparse",    # C3
    "newsgroups",               # C4
    "l21_shared",               # S1
    "l21_per_task",             # S2
    "l21_path",                 # S3
    "kernel_ridge",             # K1, K2
    "svc",                      # K3
    "kernel_ridge_scale",       # K4
    "kernel_ridge_path",        # K5
    "sparse_svc",               # K6
    "task_relations_school",    # R1
    "cmtl_malsar",              # R2
    "cv_school",                # M1
    "cv_l21",                   # M2
    "cv_kernel_ridge",          # M3
    "gaussian_process",         # G1, G2
)
