// _core.distribute: the workers' collectives of ff.distribute (distribute/collective.h) and the
// Model methods of data-parallel training (model/model_distribute.cpp). Every call that may wait
// on another worker releases the GIL.
#include <chrono>
#include <cstring>

#include "bindings.h"
#include "distribute/collective.h"
#include "distribute/gradient_reducer.h"
#include "distribute/mpi_loader.h"
#include "distribute/nccl_reducer.h"
#include "distribute/tcp_collective.h"

namespace ff::bindings {

void init_distribute(py::module_& m) {
  py::module_ d = m.def_submodule("distribute", "The collectives of ff.distribute");
  py::class_<Collective, std::shared_ptr<Collective>>(d, "Collective")
      .def_property_readonly("rank", &Collective::rank)
      .def_property_readonly("size", &Collective::size)
      .def_property_readonly("transport", &Collective::transport,
                             "\"local\" (one process), \"tcp\" or \"mpi\"")
      .def_property("timeout", &Collective::timeout_s, &Collective::set_timeout,
                    "Seconds a worker may send nothing before the others stop, naming it")
      .def_property_readonly("broken", &Collective::broken)
      .def(
          "allgather",
          [](Collective& c, const std::vector<int64_t>& values, const std::string& what) {
            py::gil_scoped_release release;
            return c.allgather(values, what);
          },
          py::arg("values"), py::arg("what"),
          "Every worker's values, worker by worker (a flat list)")
      .def(
          "allreduce_sum",
          [](Collective& c, py::array a, const std::string& what) {
            if (!(a.flags() & py::array::c_style) || !a.writeable())
              throw TypeError("allreduce_sum needs a writeable C-contiguous array");
            const int64_t n = static_cast<int64_t>(a.size());
            if (py::isinstance<py::array_t<float>>(a) && a.dtype().is(py::dtype::of<float>())) {
              float* p = static_cast<float*>(a.mutable_data());
              py::gil_scoped_release release;
              c.allreduce_sum(p, n, what);
            } else if (a.dtype().is(py::dtype::of<double>())) {
              double* p = static_cast<double*>(a.mutable_data());
              py::gil_scoped_release release;
              c.allreduce_sum(p, n, what);
            } else {
              throw TypeError("allreduce_sum takes float32 or float64 arrays");
            }
          },
          py::arg("array"), py::arg("what"),
          "In place: the elementwise sum over the workers, added in rank order")
      .def(
          "broadcast",
          [](Collective& c, const py::bytes& data, int root, const std::string& what) {
            std::string buffer = data;
            {
              py::gil_scoped_release release;
              c.broadcast(buffer.data(), buffer.size(), root, what);
            }
            return py::bytes(buffer);
          },
          py::arg("data"), py::arg("root"), py::arg("what"),
          "root's bytes on every worker (every worker passes as many bytes)")
      .def(
          "barrier",
          [](Collective& c, const std::string& what) {
            py::gil_scoped_release release;
            c.barrier(what);
          },
          py::arg("what"));
  d.def(
      "local_collective",
      []() -> std::shared_ptr<Collective> { return std::make_shared<LocalCollective>(); },
      "One process: every collective is the identity");
  d.def(
      "tcp_collective",
      [](int rank, int size, const std::string& address, int port,
         double timeout) -> std::shared_ptr<Collective> {
        py::gil_scoped_release release;
        return std::make_shared<TcpCollective>(rank, size, address, port, timeout);
      },
      py::arg("rank"), py::arg("size"), py::arg("address"), py::arg("port"), py::arg("timeout"),
      "Joins the workers through worker 0 at address:port (distribute/tcp_collective.h)");
  d.def(
      "mpi_available",
      []() {
        std::string why;
        const bool ok = mpi_available(&why);
        return py::make_tuple(ok, why);
      },
      "(whether the MPI transport loads, why not)");
  d.def(
      "mpi_collective",
      [](double timeout) {
        py::gil_scoped_release release;
        return mpi_collective(timeout);
      },
      py::arg("timeout"), "MPI_Init (once) and a collective over the MPI job's processes");
  d.def(
      "mpi_finalize",
      []() {
        py::gil_scoped_release release;
        return mpi_finalize();
      },
      "MPI_Finalize at exit (skipped after a failed collective)");

  py::class_<GradientReducer, std::shared_ptr<GradientReducer>>(d, "GradientReducer")
      .def_property_readonly("name", &GradientReducer::name)
      .def_property_readonly("rank", &GradientReducer::rank)
      .def_property_readonly("size", &GradientReducer::size)
      .def_property_readonly("bucket_bytes", &GradientReducer::bucket_bytes);
  d.def("nccl_available", []() {
    std::string why;
    const bool ok = nccl_available(&why);
    return py::make_tuple(ok, why);
  }, "(whether NCCL can sum gradients on this machine's GPUs, why not)");
  d.def("nccl_reducer", [](Collective& host, Model& model, int64_t bucket_bytes) {
    py::gil_scoped_release release;
    return nccl_reducer(host, model.backend(), bucket_bytes);
  }, py::arg("collective"), py::arg("model"), py::arg("bucket_bytes") = kDefaultBucketBytes,
     "NCCL for the model's GPU, joined through the workers' collective (every worker calls it)");

  d.def(
      "time_reducer",
      [](GradientReducer& reducer, Model& model, int64_t elements, int repeats) {
        if (elements < 1 || repeats < 1)
          throw ValueError("time_reducer needs elements >= 1 and repeats >= 1");
        Device& device = model.backend().device();
        Tensor t = Tensor::zeros(device, {elements});
        py::gil_scoped_release release;
        reducer.prepare(elements);
        auto once = [&] {
          reducer.begin_step();
          reducer.reduce(t.data<float>(), elements);
          reducer.end_step();
        };
        once();  // warm-up (connections, first launches)
        device.synchronize();
        const auto start = std::chrono::steady_clock::now();
        for (int i = 0; i < repeats; ++i) once();
        device.synchronize();
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() /
               repeats;
      },
      py::arg("reducer"), py::arg("model"), py::arg("elements"), py::arg("repeats"),
      "Seconds per all-reduce of `elements` floats on the model's device (benchmarks)");

  auto model = py::reinterpret_borrow<py::class_<Model, std::shared_ptr<Model>>>(m.attr("Model"));
  model
      .def(
          "set_collective",
          [](Model& g, std::shared_ptr<Collective> c) {
            ModelLock lock(g.mutex());
            g.set_collective(std::move(c));
          },
          py::arg("collective").none(true),
          "The workers' collective of a data-parallel run (None: training alone)")
      .def_property_readonly("collective", [](const Model& g) { return g.collective(); })
      .def("set_gradient_reducer", [](Model& g, std::shared_ptr<GradientReducer> r) {
             ModelLock lock(g.mutex());
             g.set_gradient_reducer(std::move(r));
           }, py::arg("reducer").none(true),
           "Sum the gradients on the device in buckets (NCCL); None: through the collective")
      .def_property_readonly("gradient_reducer", [](const Model& g) { return g.gradient_reducer(); })
      .def(
          "broadcast_weights",
          [](Model& g, int root) {
            ModelLock lock(g.mutex());
            py::gil_scoped_release release;
            g.broadcast_weights(root);
          },
          py::arg("root") = 0, "Every worker's weights and optimizer state become root's")
      .def(
          "weights_fingerprint",
          [](Model& g) {
            ModelLock lock(g.mutex());
            return g.weights_fingerprint();
          },
          "A 64-bit hash of the trainable weights")
      .def(
          "check_replicas_agree",
          [](Model& g, const std::string& when) {
            ModelLock lock(g.mutex());
            py::gil_scoped_release release;
            g.check_replicas_agree(when);
          },
          py::arg("when"), "Raises naming the workers whose weights differ from the majority's");
}

}  // namespace ff::bindings
