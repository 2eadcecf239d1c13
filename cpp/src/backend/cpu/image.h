// CPU kernels of the image augmentation layers (RandomFlip, RandomTranslation, RandomZoom,
// RandomRotation): free functions behind the matching Backend methods (contracts in
// backend/backend.h). Images are (n, h, w, c), channels last.
#pragma once
#include <cstdint>

#include "backend/backend.h"

namespace ff::cpu {

void affine_transform_images(const float* x, float* y, int64_t n, int64_t h, int64_t w,
                             int64_t c, const float* transforms, Interpolation interpolation,
                             FillMode fill_mode, float fill_value);

void affine_transform_images_backward(const float* dy, float* dx, int64_t n, int64_t h,
                                      int64_t w, int64_t c, const float* transforms,
                                      Interpolation interpolation, FillMode fill_mode);

void flip_images(const float* x, float* y, int64_t n, int64_t h, int64_t w, int64_t c,
                 const float* flips);

}  // namespace ff::cpu
