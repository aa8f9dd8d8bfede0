// trt-runner: deserializes one TensorRT engine and serves inference requests over stdio with
// the framed protocol of agent/src/inference/trt/protocol.ts (see README.md here):
//   frame = u32 LE payload length, u8 type, payload
//   HELLO(1) JSON → agent once ready; INFER(2) u32 id, u32 batch, FP32 input; RESULT(3);
//   ERROR(4) u32 id (0 = fatal), message; SHUTDOWN(5).
// TensorRT 7.x/8.x use the bindings API (7.x objects are freed with destroy()), 10.x the
// named-tensor API (NV_TENSORRT_MAJOR). Logs go to stderr only: stdout carries frames.
// Compiled in CI only against stand-in headers (test/fixtures/trt-standin, a test double);
// NOT YET COMPILED OR RUN against real TensorRT: see docs/hardware-validation.md.
#include <NvInfer.h>
#include <NvInferPlugin.h>
#include <cuda_runtime_api.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

enum : uint8_t { HELLO = 1, INFER = 2, RESULT = 3, ERROR_FRAME = 4, SHUTDOWN = 5 };

class Logger : public nvinfer1::ILogger {
  void log(Severity s, const char* msg) noexcept override {
    if (s <= Severity::kWARNING) std::cerr << "[trt] " << msg << std::endl;
  }
} gLogger;

// TensorRT 7 objects have protected destructors and are freed with destroy(); from 8.0 on
// `delete` is the documented way (destroy() is deprecated, removed in 10).
struct TrtDelete {
  template <typename T>
  void operator()(T* p) const {
#if NV_TENSORRT_MAJOR < 8
    if (p) p->destroy();
#else
    delete p;
#endif
  }
};
template <typename T>
using TrtPtr = std::unique_ptr<T, TrtDelete>;

bool readExact(void* dst, size_t n) { return std::fread(dst, 1, n, stdin) == n; }

void writeFrame(uint8_t type, const std::vector<uint8_t>& payload) {
  uint32_t len = static_cast<uint32_t>(payload.size());
  uint8_t head[5];
  std::memcpy(head, &len, 4);  // Jetson and x86 are little-endian
  head[4] = type;
  std::fwrite(head, 1, 5, stdout);
  if (!payload.empty()) std::fwrite(payload.data(), 1, payload.size(), stdout);
  std::fflush(stdout);
}

template <typename T>
void put(std::vector<uint8_t>& b, T v) {
  const uint8_t* p = reinterpret_cast<const uint8_t*>(&v);
  b.insert(b.end(), p, p + sizeof(T));
}

void sendError(uint32_t id, const std::string& msg) {
  std::vector<uint8_t> p;
  put<uint32_t>(p, id);
  p.insert(p.end(), msg.begin(), msg.end());
  writeFrame(ERROR_FRAME, p);
}

#define CHECK_CUDA(x)                                                           \
  do {                                                                          \
    cudaError_t e = (x);                                                        \
    if (e != cudaSuccess) throw std::runtime_error(std::string("CUDA: ") + cudaGetErrorString(e)); \
  } while (0)

struct Tensor {
  std::string name;
  bool input;
  bool isInt32;
  nvinfer1::Dims dims;  // as reported by the engine (batch dim may be -1)
  void* device = nullptr;
  size_t capacityBytes = 0;
  int index = -1;  // binding index (TensorRT 8)
};

size_t volume(const nvinfer1::Dims& d) {
  size_t v = 1;
  for (int i = 0; i < d.nbDims; i++) v *= static_cast<size_t>(d.d[i] < 0 ? 1 : d.d[i]);
  return v;
}

std::string dimsJson(const nvinfer1::Dims& d) {
  std::ostringstream o;
  o << "[";
  for (int i = 0; i < d.nbDims; i++) o << (i ? "," : "") << d.d[i];
  o << "]";
  return o.str();
}

}  // namespace

int main(int argc, char** argv) {
  std::string enginePath;
  int maxBatch = 64;
  for (int i = 1; i + 1 < argc; i++) {
    if (std::string(argv[i]) == "--engine") enginePath = argv[i + 1];
    if (std::string(argv[i]) == "--max-batch") maxBatch = std::atoi(argv[i + 1]);
  }
  try {
    if (enginePath.empty()) throw std::runtime_error("usage: trt-runner --engine FILE [--max-batch N]");
    std::ifstream f(enginePath, std::ios::binary);
    if (!f) throw std::runtime_error("cannot open engine " + enginePath);
    std::vector<char> blob((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    initLibNvInferPlugins(&gLogger, "");  // BatchedNMS_TRT / BatchedNMSDynamic_TRT live here
    TrtPtr<nvinfer1::IRuntime> runtime(nvinfer1::createInferRuntime(gLogger));
    if (!runtime) throw std::runtime_error("createInferRuntime failed (libnvinfer does not match the headers this runner was built with?)");
    TrtPtr<nvinfer1::ICudaEngine> engine(runtime->deserializeCudaEngine(blob.data(), blob.size()));
    if (!engine) throw std::runtime_error("deserializeCudaEngine failed (TensorRT version, plugin or GPU mismatch)");
    TrtPtr<nvinfer1::IExecutionContext> ctx(engine->createExecutionContext());
    cudaStream_t stream;
    CHECK_CUDA(cudaStreamCreate(&stream));

    std::vector<Tensor> tensors;
#if NV_TENSORRT_MAJOR >= 10
    for (int i = 0; i < engine->getNbIOTensors(); i++) {
      const char* name = engine->getIOTensorName(i);
      Tensor t{name, engine->getTensorIOMode(name) == nvinfer1::TensorIOMode::kINPUT,
               engine->getTensorDataType(name) == nvinfer1::DataType::kINT32, engine->getTensorShape(name)};
      tensors.push_back(t);
    }
#else
    for (int i = 0; i < engine->getNbBindings(); i++) {
      Tensor t{engine->getBindingName(i), engine->bindingIsInput(i), engine->getBindingDataType(i) == nvinfer1::DataType::kINT32,
               engine->getBindingDimensions(i)};
      t.index = i;
      tensors.push_back(t);
    }
    // Implicit-batch (UFF) engines report per-image dims: prepend the batch dimension.
    const bool implicitBatch = engine->hasImplicitBatchDimension();
    if (implicitBatch) {
      maxBatch = std::min(maxBatch, engine->getMaxBatchSize());
      for (auto& t : tensors) {
        nvinfer1::Dims d;
        d.nbDims = t.dims.nbDims + 1;
        d.d[0] = -1;
        for (int k = 0; k < t.dims.nbDims; k++) d.d[k + 1] = t.dims.d[k];
        t.dims = d;
      }
    }
#endif
    // Device buffers sized for maxBatch.
    for (auto& t : tensors) {
      t.capacityBytes = volume(t.dims) * static_cast<size_t>(maxBatch) * 4;
      CHECK_CUDA(cudaMalloc(&t.device, t.capacityBytes));
    }

    std::ostringstream hello;
    hello << "{\"tensorrt\":\"" << NV_TENSORRT_MAJOR << "." << NV_TENSORRT_MINOR << "." << NV_TENSORRT_PATCH << "\",\"inputs\":[";
    bool first = true;
    for (auto& t : tensors)
      if (t.input) {
        hello << (first ? "" : ",") << "{\"name\":\"" << t.name << "\",\"dtype\":\"FP32\",\"dims\":" << dimsJson(t.dims) << "}";
        first = false;
      }
    hello << "],\"outputs\":[";
    first = true;
    for (auto& t : tensors)
      if (!t.input) {
        hello << (first ? "" : ",") << "{\"name\":\"" << t.name << "\",\"dtype\":\"" << (t.isInt32 ? "INT32" : "FP32") << "\",\"dims\":" << dimsJson(t.dims) << "}";
        first = false;
      }
    hello << "]}";
    std::string h = hello.str();
    writeFrame(HELLO, std::vector<uint8_t>(h.begin(), h.end()));
    std::cerr << "trt-runner: serving " << enginePath << std::endl;

    std::vector<uint8_t> payload;
    for (;;) {
      uint8_t head[5];
      if (!readExact(head, 5)) return 0;  // agent closed stdin
      uint32_t len;
      std::memcpy(&len, head, 4);
      payload.resize(len);
      if (len && !readExact(payload.data(), len)) return 0;
      if (head[4] == SHUTDOWN) return 0;
      if (head[4] != INFER || len < 8) continue;
      uint32_t id, batch;
      std::memcpy(&id, payload.data(), 4);
      std::memcpy(&batch, payload.data() + 4, 4);
      try {
        if (batch < 1 || static_cast<int>(batch) > maxBatch) throw std::runtime_error("batch out of range");
        std::vector<void*> bindings(tensors.size());
        for (size_t i = 0; i < tensors.size(); i++) {
          Tensor& t = tensors[i];
          if (!t.input) continue;
          nvinfer1::Dims d = t.dims;
          d.d[0] = static_cast<int>(batch);
          size_t bytes = volume(d) * 4;
          if (bytes != len - 8) throw std::runtime_error("input size does not match the engine's input shape");
          CHECK_CUDA(cudaMemcpyAsync(t.device, payload.data() + 8, bytes, cudaMemcpyHostToDevice, stream));
#if NV_TENSORRT_MAJOR >= 10
          ctx->setInputShape(t.name.c_str(), d);
#else
          if (!implicitBatch) ctx->setBindingDimensions(t.index, d);
#endif
        }
        bool ok;
#if NV_TENSORRT_MAJOR >= 10
        for (auto& t : tensors) ctx->setTensorAddress(t.name.c_str(), t.device);
        ok = ctx->enqueueV3(stream);
#else
        for (size_t i = 0; i < tensors.size(); i++) bindings[tensors[i].index] = tensors[i].device;
        ok = implicitBatch ? ctx->enqueue(static_cast<int>(batch), bindings.data(), stream, nullptr)
                           : ctx->enqueueV2(bindings.data(), stream, nullptr);
#endif
        if (!ok) throw std::runtime_error("enqueue failed");
        std::vector<uint8_t> out;
        put<uint32_t>(out, id);
        uint32_t nOut = 0;
        for (auto& t : tensors) nOut += t.input ? 0 : 1;
        put<uint32_t>(out, nOut);
        std::vector<std::vector<uint8_t>> host;
        for (auto& t : tensors) {
          if (t.input) continue;
          nvinfer1::Dims d = t.dims;
          d.d[0] = static_cast<int>(batch);
          std::vector<uint8_t> buf(volume(d) * 4);
          CHECK_CUDA(cudaMemcpyAsync(buf.data(), t.device, buf.size(), cudaMemcpyDeviceToHost, stream));
          host.push_back(std::move(buf));
        }
        CHECK_CUDA(cudaStreamSynchronize(stream));
        size_t k = 0;
        for (auto& t : tensors) {
          if (t.input) continue;
          put<uint16_t>(out, static_cast<uint16_t>(t.name.size()));
          out.insert(out.end(), t.name.begin(), t.name.end());
          put<uint8_t>(out, t.isInt32 ? 1 : 0);
          put<uint8_t>(out, static_cast<uint8_t>(t.dims.nbDims));
          for (int j = 0; j < t.dims.nbDims; j++) put<int32_t>(out, j == 0 ? static_cast<int32_t>(batch) : t.dims.d[j]);
          put<uint32_t>(out, static_cast<uint32_t>(host[k].size()));
          out.insert(out.end(), host[k].begin(), host[k].end());
          k++;
        }
        writeFrame(RESULT, out);
      } catch (const std::exception& e) {
        sendError(id, e.what());
      }
    }
  } catch (const std::exception& e) {
    std::cerr << "trt-runner: " << e.what() << std::endl;
    sendError(0, e.what());
    return 1;
  }
}
