// FF_HD marks small inline functions that both the CPU backend and CUDA kernels call (the step
// state rules, schedules, random transforms), so the two backends compute them from one source.
#pragma once

#ifdef __CUDACC__
#define FF_HD __host__ __device__
#else
#define FF_HD
#endif
