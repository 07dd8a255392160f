// Helpers shared by the binding files: dtype dispatch, shape checks, output allocation.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstddef>
#include <cstdint>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "cnnkit/common.hpp"
#include "output_buffers.hpp"

namespace cnnkit {
namespace py = pybind11;

template <typename T>
using Array = py::array_t<T, py::array::c_style | py::array::forcecast>;

inline std::string shape_string(const py::array& a) {
  std::ostringstream s;
  s << "(";
  for (py::ssize_t i = 0; i < a.ndim(); ++i) s << (i ? ", " : "") << a.shape(i);
  s << (a.ndim() == 1 ? ",)" : ")");
  return s.str();
}

// A C-contiguous array of T converted from obj, with `ndim` dimensions.
template <typename T>
Array<T> require(const py::handle& obj, const char* name, py::ssize_t ndim) {
  if (!py::isinstance<py::array>(obj))
    throw py::type_error(std::string(name) + " must be a numpy array");
  const py::array raw = py::reinterpret_borrow<py::array>(obj);
  CNNKIT_CHECK(raw.ndim() == ndim, name << " must have " << ndim << " dimensions, got shape "
                                        << shape_string(raw));
  Array<T> a = Array<T>::ensure(obj);
  if (!a) throw py::type_error(std::string(name) + " cannot be converted to a float array");
  return a;
}

inline void require_shape(const py::array& a, const char* name,
                          const std::vector<py::ssize_t>& expected) {
  bool same = a.ndim() == py::ssize_t(expected.size());
  for (size_t i = 0; same && i < expected.size(); ++i) same = a.shape(i) == expected[i];
  if (same) return;
  std::ostringstream want;
  want << "(";
  for (size_t i = 0; i < expected.size(); ++i) want << (i ? ", " : "") << expected[i];
  want << (expected.size() == 1 ? ",)" : ")");
  CNNKIT_CHECK(false, name << " must have shape " << want.str() << ", got "
                           << shape_string(a));
}

// obj itself as an array of T for an op to write in place: no converted copy, so it must already
// be a C-contiguous, writeable array of T. `op` and `name` go into the error messages.
template <typename T>
Array<T> writable(const py::handle& obj, const char* op, const char* name) {
  if (!py::isinstance<py::array>(obj) ||
      !py::reinterpret_borrow<py::array>(obj).dtype().is(py::dtype::of<T>()))
    throw py::type_error(std::string(op) + ": " + name + " must be a numpy array of " +
                         (sizeof(T) == 4 ? "float32" : "float64"));
  const py::array raw = py::reinterpret_borrow<py::array>(obj);
  CNNKIT_CHECK((raw.flags() & py::array::c_style) && raw.writeable(),
               op << ": " << name << " must be C-contiguous and writeable");
  return py::reinterpret_borrow<Array<T>>(obj);
}

// float64 when the array is float64, else float32: the compute dtype of an op.
inline bool is_double(const py::handle& obj) {
  return py::isinstance<py::array>(obj) &&
         py::reinterpret_borrow<py::array>(obj).dtype().is(py::dtype::of<double>());
}

// An uninitialised C-contiguous array for an op's result, its memory from the output pool.
template <typename T>
Array<T> empty(const std::vector<py::ssize_t>& shape) {
  std::size_t bytes = sizeof(T);
  for (py::ssize_t extent : shape) {
    const bool overflow = __builtin_mul_overflow(bytes, std::size_t(extent), &bytes);
    CNNKIT_CHECK(!overflow && bytes <= std::size_t(PTRDIFF_MAX),
                 "the result would be too large for memory (" << extent << " in its shape)");
  }
  T* data = static_cast<T*>(acquire_output(bytes));
  py::capsule owner(data, [](void* p) { release_output(p); });
  return Array<T>(shape, data, owner);
}

inline std::pair<Index, Index> pair_arg(const std::vector<Index>& v, const char* name) {
  CNNKIT_CHECK(v.size() == 2, name << " must have 2 values, got " << v.size());
  return {v[0], v[1]};
}

}  // namespace cnnkit
