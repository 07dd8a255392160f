// Direct-loop convolution: the obviously correct oracle for the tiled kernels.
// Formulas: cnnkit/conv2d.hpp. Accumulates in double whatever T is.
#include "cnnkit/conv2d.hpp"

#include <vector>

namespace cnnkit {

template <typename T>
void conv2d_forward_ref(const Conv2dGeometry& g, const T* x, const T* w, const T* b, bool relu,
                        T* y) {
  for (Index n = 0; n < g.N; ++n)
    for (Index oh = 0; oh < g.OH; ++oh)
      for (Index ow = 0; ow < g.OW; ++ow)
        for (Index oc = 0; oc < g.OC; ++oc) {
          double sum = b ? double(b[oc]) : 0.0;
          for (Index kh = 0; kh < g.KH; ++kh)
            for (Index kw = 0; kw < g.KW; ++kw) {
              const Index ih = oh * g.SH - g.pad_top + kh * g.DH;
              const Index iw = ow * g.SW - g.pad_left + kw * g.DW;
              if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
              for (Index c = 0; c < g.C; ++c)
                sum += double(x[((n * g.H + ih) * g.W + iw) * g.C + c]) *
                       double(w[((kh * g.KW + kw) * g.C + c) * g.OC + oc]);
            }
          if (relu && sum < 0) sum = 0;
          y[((n * g.OH + oh) * g.OW + ow) * g.OC + oc] = T(sum);
        }
}

// Scatters each dy element back along the same index map as the forward pass.
template <typename T>
void conv2d_backward_input_ref(const Conv2dGeometry& g, const T* dy, const T* w, T* dx) {
  std::vector<double> acc(g.N * g.H * g.W * g.C, 0.0);
  for (Index n = 0; n < g.N; ++n)
    for (Index oh = 0; oh < g.OH; ++oh)
      for (Index ow = 0; ow < g.OW; ++ow)
        for (Index kh = 0; kh < g.KH; ++kh)
          for (Index kw = 0; kw < g.KW; ++kw) {
            const Index ih = oh * g.SH - g.pad_top + kh * g.DH;
            const Index iw = ow * g.SW - g.pad_left + kw * g.DW;
            if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
            for (Index c = 0; c < g.C; ++c)
              for (Index oc = 0; oc < g.OC; ++oc)
                acc[((n * g.H + ih) * g.W + iw) * g.C + c] +=
                    double(dy[((n * g.OH + oh) * g.OW + ow) * g.OC + oc]) *
                    double(w[((kh * g.KW + kw) * g.C + c) * g.OC + oc]);
          }
  for (size_t i = 0; i < acc.size(); ++i) dx[i] = T(acc[i]);
}

template <typename T>
void conv2d_backward_kernel_ref(const Conv2dGeometry& g, const T* x, const T* dy, T* dw, T* db) {
  std::vector<double> acc(g.KH * g.KW * g.C * g.OC, 0.0), bias(g.OC, 0.0);
  for (Index n = 0; n < g.N; ++n)
    for (Index oh = 0; oh < g.OH; ++oh)
      for (Index ow = 0; ow < g.OW; ++ow) {
        const T* d = dy + ((n * g.OH + oh) * g.OW + ow) * g.OC;
        for (Index oc = 0; oc < g.OC; ++oc) bias[oc] += double(d[oc]);
        for (Index kh = 0; kh < g.KH; ++kh)
          for (Index kw = 0; kw < g.KW; ++kw) {
            const Index ih = oh * g.SH - g.pad_top + kh * g.DH;
            const Index iw = ow * g.SW - g.pad_left + kw * g.DW;
            if (ih < 0 || ih >= g.H || iw < 0 || iw >= g.W) continue;
            for (Index c = 0; c < g.C; ++c)
              for (Index oc = 0; oc < g.OC; ++oc)
                acc[((kh * g.KW + kw) * g.C + c) * g.OC + oc] +=
                    double(x[((n * g.H + ih) * g.W + iw) * g.C + c]) * double(d[oc]);
          }
      }
  for (size_t i = 0; i < acc.size(); ++i) dw[i] = T(acc[i]);
  if (db)
    for (Index oc = 0; oc < g.OC; ++oc) db[oc] = T(bias[oc]);
}

template void conv2d_forward_ref<float>(const Conv2dGeometry&, const float*, const float*,
                                        const float*, bool, float*);
template void conv2d_forward_ref<double>(const Conv2dGeometry&, const double*, const double*,
                                         const double*, bool, double*);
template void conv2d_backward_input_ref<float>(const Conv2dGeometry&, const float*, const float*,
                                               float*);
template void conv2d_backward_input_ref<double>(const Conv2dGeometry&, const double*,
                                                const double*, double*);
template void conv2d_backward_kernel_ref<float>(const Conv2dGeometry&, const float*, const float*,
                                                float*, float*);
template void conv2d_backward_kernel_ref<double>(const Conv2dGeometry&, const double*,
                                                 const double*, double*, double*);

}  // namespace cnnkit
