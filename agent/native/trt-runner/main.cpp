// trt-runner: deserializes one TensorRT engine and serves inference requests over stdio with
// the framed protocol of agent/src/inference/trt/protocol.ts (version 2, see README.md here):
//   frame = u32 LE payload length, u8 type, payload
//   HELLO(1) JSON → agent once ready; INFER(2) u32 id, tensors; RESULT(3) u32 id, tensors;
//   ERROR(4) u32 id (0 = fatal), "[CODE] message"; SHUTDOWN(5).
//   tensor = u16 nameLen, name, u8 dtype, u8 ndims, ndims × i64, u32 byteLen, bytes.
// Every buffer is sized from the tensor's DataType and the shape TensorRT reports after the
// input shapes are set; every TensorRT and CUDA call's result is checked and becomes an ERROR.
// API by version (NvInferVersion.h): 7.x–8.4 the bindings API (7.x objects are freed with
// destroy()); 8.5+ the named-tensor API (setInputShape, setTensorAddress, enqueueV3), which
// TensorRT 10 keeps alone. Logs go to stderr only: stdout carries frames.
// Compiled in CI against stand-in headers (test/fixtures/trt-standin); checked with
// g++ -fsyntax-only against NVIDIA's public headers of 7.1, 8.2, 8.6 and 10.x; NOT YET RUN on a
// GPU: see docs/hardware-validation.md.
#include <NvInfer.h>
#include <NvInferPlugin.h>
#include <cuda_runtime_api.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <iterator>
#include <limits>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#define RUNNER_TRT_AT_LEAST(major, minor) \
  (NV_TENSORRT_MAJOR > (major) || (NV_TENSORRT_MAJOR == (major) && NV_TENSORRT_MINOR >= (minor)))
// The named-tensor API arrived in 8.5 (and the bindings API was deprecated there, removed in 10).
#define RUNNER_NAMED_TENSORS RUNNER_TRT_AT_LEAST(8, 5)
// Implicit-batch engines (TAO UFF .etlt) exist up to 9.x; TensorRT 10 removed implicit batch.
#define RUNNER_IMPLICIT_BATCH (NV_TENSORRT_MAJOR < 10)

namespace {

enum : uint8_t { HELLO = 1, INFER = 2, RESULT = 3, ERROR_FRAME = 4, SHUTDOWN = 5 };
constexpr int kProtocol = 2;

/** A failure with a stable code; the agent reads "[CODE] message" (protocol.ts RUNNER_ERRORS). */
struct RunnerError : std::runtime_error {
  RunnerError(std::string c, const std::string& message) : std::runtime_error(message), code(std::move(c)) {}
  std::string code;
};
[[noreturn]] void fail(const char* code, const std::string& message) { throw RunnerError(code, message); }

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

void checkCuda(cudaError_t e, const char* what) {
  if (e != cudaSuccess) fail("CUDA", std::string(what) + ": " + cudaGetErrorString(e));
}

// ---- element types --------------------------------------------------------------------
// Protocol dtype codes (protocol.ts DTYPES): FP32 0, INT32 1, FP16 2, INT8 3, INT64 4,
// BOOL 5, UINT8 6, BF16 7, FP8 8. Sub-byte (INT4, FP4) and scale (E8M0) types are packed and
// not I/O types this runner carries.
struct DType {
  uint8_t code;
  const char* name;
  size_t size;
};

bool dtypeOf(nvinfer1::DataType t, DType& out) {
  switch (t) {
    case nvinfer1::DataType::kFLOAT: out = {0, "FP32", 4}; return true;
    case nvinfer1::DataType::kINT32: out = {1, "INT32", 4}; return true;
    case nvinfer1::DataType::kHALF: out = {2, "FP16", 2}; return true;
    case nvinfer1::DataType::kINT8: out = {3, "INT8", 1}; return true;
    case nvinfer1::DataType::kBOOL: out = {5, "BOOL", 1}; return true;
#if RUNNER_TRT_AT_LEAST(8, 5)
    case nvinfer1::DataType::kUINT8: out = {6, "UINT8", 1}; return true;
#endif
#if RUNNER_TRT_AT_LEAST(8, 6)
    case nvinfer1::DataType::kFP8: out = {8, "FP8", 1}; return true;
#endif
#if NV_TENSORRT_MAJOR >= 10
    case nvinfer1::DataType::kINT64: out = {4, "INT64", 8}; return true;
    case nvinfer1::DataType::kBF16: out = {7, "BF16", 2}; return true;
#endif
    default: return false;
  }
}

// ---- shapes -----------------------------------------------------------------------------
using DimValue = std::remove_cv<std::remove_reference<decltype(std::declval<nvinfer1::Dims>().d[0])>::type>::type;
using Shape = std::vector<int64_t>;

Shape shapeOf(const nvinfer1::Dims& d) {
  Shape s;
  for (int32_t i = 0; i < d.nbDims; i++) s.push_back(static_cast<int64_t>(d.d[i]));
  return s;
}

nvinfer1::Dims dimsOf(const Shape& s) {
  nvinfer1::Dims d{};
  if (s.size() > static_cast<size_t>(nvinfer1::Dims::MAX_DIMS)) fail("INPUT_SHAPE", "too many dimensions");
  d.nbDims = static_cast<int32_t>(s.size());
  for (size_t i = 0; i < s.size(); i++) {
    if (s[i] > static_cast<int64_t>(std::numeric_limits<DimValue>::max())) fail("INPUT_SHAPE", "dimension too large for this TensorRT");
    d.d[i] = static_cast<DimValue>(s[i]);
  }
  return d;
}

std::string shapeText(const Shape& s) {
  std::ostringstream o;
  o << "[";
  for (size_t i = 0; i < s.size(); i++) o << (i ? "," : "") << s[i];
  o << "]";
  return o.str();
}

/** Element count of a resolved shape; a -1 (or any negative) dimension is an error, never 1. */
size_t volumeOf(const Shape& s, const std::string& what) {
  size_t v = 1;
  for (int64_t d : s) {
    if (d < 0) fail("DATA_DEPENDENT_SHAPE", what + " has an unresolved dimension " + shapeText(s));
    const auto u = static_cast<uint64_t>(d);
    if (u != 0 && v > std::numeric_limits<size_t>::max() / u) fail("TOO_LARGE", what + " is too large " + shapeText(s));
    v *= static_cast<size_t>(u);
  }
  return v;
}

std::string jsonString(const std::string& s) {
  std::ostringstream o;
  o << '"';
  for (unsigned char c : s) {
    if (c == '"' || c == '\\') o << '\\' << c;
    else if (c < 0x20) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\u%04x", c);
      o << buf;
    } else o << c;
  }
  o << '"';
  return o.str();
}

// ---- frames -----------------------------------------------------------------------------
bool readExact(void* dst, size_t n) { return std::fread(dst, 1, n, stdin) == n; }

void writeFrame(uint8_t type, const std::vector<uint8_t>& payload) {
  if (payload.size() > std::numeric_limits<uint32_t>::max()) fail("TOO_LARGE", "frame larger than 4 GiB");
  const auto len = static_cast<uint32_t>(payload.size());
  uint8_t head[5];
  std::memcpy(head, &len, 4);  // Jetson and x86 are little-endian
  head[4] = type;
  std::fwrite(head, 1, 5, stdout);
  if (!payload.empty()) std::fwrite(payload.data(), 1, payload.size(), stdout);
  std::fflush(stdout);
}

template <typename T>
void put(std::vector<uint8_t>& b, T v) {
  const auto* p = reinterpret_cast<const uint8_t*>(&v);
  b.insert(b.end(), p, p + sizeof(T));
}

void sendError(uint32_t id, const std::string& code, const std::string& msg) {
  std::vector<uint8_t> p;
  put<uint32_t>(p, id);
  const std::string text = "[" + code + "] " + msg;
  p.insert(p.end(), text.begin(), text.end());
  writeFrame(ERROR_FRAME, p);
}

/** Bounds-checked reads of an INFER payload. */
class Reader {
 public:
  explicit Reader(const std::vector<uint8_t>& b) : b_(b) {}
  template <typename T>
  T get() {
    need(sizeof(T));
    T v;
    std::memcpy(&v, b_.data() + pos_, sizeof(T));
    pos_ += sizeof(T);
    return v;
  }
  std::string str(size_t n) {
    need(n);
    std::string s(reinterpret_cast<const char*>(b_.data() + pos_), n);
    pos_ += n;
    return s;
  }
  const uint8_t* bytes(size_t n) {
    need(n);
    const uint8_t* p = b_.data() + pos_;
    pos_ += n;
    return p;
  }
  bool done() const { return pos_ == b_.size(); }

 private:
  void need(size_t n) const {
    if (n > b_.size() - pos_) fail("BAD_FRAME", "INFER frame is truncated");
  }
  const std::vector<uint8_t>& b_;
  size_t pos_ = 0;
};

// ---- the engine -------------------------------------------------------------------------
struct Tensor {
  std::string name;
  bool input = false;
  DType dtype{};
  /** As the engine reports it: -1 for runtime dimensions; implicit batch: a leading -1 added. */
  Shape engineShape;
  /** The shape of the current request, resolved by TensorRT. */
  Shape shape;
  int32_t binding = -1;
  void* device = nullptr;
  size_t capacity = 0;
};

/** Device buffers grow to what a request needs; they are never sized from a guess. */
void ensureCapacity(Tensor& t, size_t bytes) {
  if (bytes <= t.capacity && t.device) return;
  if (t.device) checkCuda(cudaFree(t.device), "cudaFree");
  t.device = nullptr;
  t.capacity = 0;
  checkCuda(cudaMalloc(&t.device, bytes ? bytes : 1), "cudaMalloc");
  t.capacity = bytes;
}

class Session {
 public:
  Session(nvinfer1::ICudaEngine& engine, nvinfer1::IExecutionContext& ctx, int maxBatch) : engine_(engine), ctx_(ctx), maxBatch_(maxBatch) {}

  void load() {
#if RUNNER_NAMED_TENSORS
#if RUNNER_IMPLICIT_BATCH
    implicitBatch_ = engine_.hasImplicitBatchDimension();
#endif
    const int32_t n = engine_.getNbIOTensors();
    if (n <= 0) fail("TENSORRT", "the engine reports no I/O tensors");
    for (int32_t i = 0; i < n; i++) {
      const char* name = engine_.getIOTensorName(i);
      if (!name) fail("TENSORRT", "getIOTensorName(" + std::to_string(i) + ") returned null");
      Tensor t;
      t.name = name;
      const nvinfer1::TensorIOMode mode = engine_.getTensorIOMode(name);
      if (mode == nvinfer1::TensorIOMode::kNONE) fail("TENSORRT", "tensor " + t.name + " is neither input nor output");
      t.input = mode == nvinfer1::TensorIOMode::kINPUT;
      describe(t, engine_.getTensorDataType(name), engine_.getTensorShape(name), engine_.getTensorFormat(name) == nvinfer1::TensorFormat::kLINEAR);
      tensors_.push_back(t);
    }
#else
    implicitBatch_ = engine_.hasImplicitBatchDimension();
    const int32_t n = engine_.getNbBindings();
    if (n <= 0) fail("TENSORRT", "the engine reports no bindings");
    for (int32_t i = 0; i < n; i++) {
      const char* name = engine_.getBindingName(i);
      if (!name) fail("TENSORRT", "getBindingName(" + std::to_string(i) + ") returned null");
      Tensor t;
      t.name = name;
      t.input = engine_.bindingIsInput(i);
      t.binding = i;
      describe(t, engine_.getBindingDataType(i), engine_.getBindingDimensions(i), engine_.getBindingFormat(i) == nvinfer1::TensorFormat::kLINEAR);
      tensors_.push_back(t);
    }
#endif
#if RUNNER_IMPLICIT_BATCH
    if (implicitBatch_) {
      const int32_t engineMax = implicitMaxBatch();
      if (engineMax < 1) fail("TENSORRT", "the implicit-batch engine reports max batch " + std::to_string(engineMax));
      if (engineMax < maxBatch_) maxBatch_ = engineMax;
      // Implicit-batch engines report per-image dims: prepend the batch dimension.
      for (auto& t : tensors_) t.engineShape.insert(t.engineShape.begin(), -1);
    }
#endif
  }

  std::string hello() const {
    std::ostringstream o;
    o << "{\"protocol\":" << kProtocol << ",\"tensorrt\":\"" << NV_TENSORRT_MAJOR << "." << NV_TENSORRT_MINOR << "." << NV_TENSORRT_PATCH << "\""
      << ",\"api\":\"" << (RUNNER_NAMED_TENSORS ? "named-tensors" : "bindings") << "\",\"implicitBatch\":" << (implicitBatch_ ? "true" : "false")
      << ",\"maxBatch\":" << maxBatch_;
    for (int pass = 0; pass < 2; pass++) {
      o << (pass == 0 ? ",\"inputs\":[" : "],\"outputs\":[");
      bool first = true;
      for (const auto& t : tensors_) {
        if (t.input != (pass == 0)) continue;
        o << (first ? "" : ",") << "{\"name\":" << jsonString(t.name) << ",\"dtype\":\"" << t.dtype.name << "\",\"dims\":" << shapeText(t.engineShape) << "}";
        first = false;
      }
    }
    o << "]}";
    return o.str();
  }

  /** One INFER: validate and place the inputs, let TensorRT resolve the output shapes, run. */
  std::vector<uint8_t> infer(uint32_t id, Reader& r, cudaStream_t stream) {
    const auto n = r.get<uint32_t>();
    std::vector<bool> given(tensors_.size(), false);
    std::vector<std::pair<size_t, const uint8_t*>> inputs;
    for (uint32_t k = 0; k < n; k++) {
      const std::string name = r.str(r.get<uint16_t>());
      const auto code = r.get<uint8_t>();
      const auto nd = r.get<uint8_t>();
      Shape dims;
      for (uint8_t j = 0; j < nd; j++) dims.push_back(r.get<int64_t>());
      const auto byteLen = r.get<uint32_t>();
      const uint8_t* bytes = r.bytes(byteLen);
      size_t idx = 0;
      while (idx < tensors_.size() && !(tensors_[idx].input && tensors_[idx].name == name)) idx++;
      if (idx == tensors_.size()) fail("INPUT_UNKNOWN", "the engine has no input named " + name);
      Tensor& t = tensors_[idx];
      if (given[idx]) fail("INPUT_UNKNOWN", "input " + name + " given twice");
      given[idx] = true;
      if (code != t.dtype.code) fail("INPUT_DTYPE", "input " + name + " is " + t.dtype.name + " in the engine; the request sent dtype code " + std::to_string(code));
      if (dims.size() != t.engineShape.size()) fail("INPUT_SHAPE", "input " + name + " has rank " + std::to_string(t.engineShape.size()) + " " + shapeText(t.engineShape) + "; got " + shapeText(dims));
      for (size_t j = 0; j < dims.size(); j++) {
        if (dims[j] < 1 || (t.engineShape[j] >= 0 && dims[j] != t.engineShape[j])) fail("INPUT_SHAPE", "input " + name + " is " + shapeText(t.engineShape) + "; got " + shapeText(dims));
      }
      const size_t want = volumeOf(dims, "input " + name) * t.dtype.size;
      if (want != byteLen) fail("INPUT_SIZE", "input " + name + " " + shapeText(dims) + " " + t.dtype.name + " needs " + std::to_string(want) + " bytes; got " + std::to_string(byteLen));
      t.shape = dims;
      inputs.emplace_back(idx, bytes);
    }
    if (!r.done()) fail("BAD_FRAME", "INFER frame has trailing bytes");
    if (inputs.empty()) fail("INPUT_MISSING", "the request carries no input tensor");
    for (size_t i = 0; i < tensors_.size(); i++)
      if (tensors_[i].input && !given[i]) fail("INPUT_MISSING", "input " + tensors_[i].name + " was not sent");

    int32_t batch = 1;
    if (implicitBatch_) {
      const int64_t b = tensors_[inputs.front().first].shape.front();
      for (const auto& in : inputs)
        if (tensors_[in.first].shape.front() != b) fail("INPUT_SHAPE", "implicit-batch inputs disagree on the batch size");
      if (b > maxBatch_) fail("BATCH_TOO_LARGE", "batch " + std::to_string(b) + " exceeds the engine's max batch " + std::to_string(maxBatch_));
      batch = static_cast<int32_t>(b);
    } else {
      for (const auto& in : inputs) setInputShape(tensors_[in.first]);
      if (!ctx_.allInputDimensionsSpecified()) fail("SHAPE_REJECTED", "TensorRT reports input dimensions still unspecified");
    }
    for (const auto& in : inputs) {
      Tensor& t = tensors_[in.first];
      const size_t bytes = volumeOf(t.shape, "input " + t.name) * t.dtype.size;
      ensureCapacity(t, bytes);
      checkCuda(cudaMemcpyAsync(t.device, in.second, bytes, cudaMemcpyHostToDevice, stream), "cudaMemcpyAsync (input)");
    }
    for (auto& t : tensors_) {
      if (t.input) continue;
      t.shape = outputShape(t, batch);
      ensureCapacity(t, volumeOf(t.shape, "output " + t.name) * t.dtype.size);
    }
    enqueue(batch, stream);

    std::vector<std::vector<uint8_t>> host;
    for (const auto& t : tensors_) {
      if (t.input) continue;
      std::vector<uint8_t> buf(volumeOf(t.shape, "output " + t.name) * t.dtype.size);
      checkCuda(cudaMemcpyAsync(buf.data(), t.device, buf.size(), cudaMemcpyDeviceToHost, stream), "cudaMemcpyAsync (output)");
      host.push_back(std::move(buf));
    }
    checkCuda(cudaStreamSynchronize(stream), "cudaStreamSynchronize");
    std::vector<uint8_t> out;
    put<uint32_t>(out, id);
    put<uint32_t>(out, static_cast<uint32_t>(host.size()));
    size_t k = 0;
    for (const auto& t : tensors_) {
      if (t.input) continue;
      if (t.name.size() > 0xffff || host[k].size() > std::numeric_limits<uint32_t>::max()) fail("TOO_LARGE", "output " + t.name + " does not fit a frame");
      put<uint16_t>(out, static_cast<uint16_t>(t.name.size()));
      out.insert(out.end(), t.name.begin(), t.name.end());
      put<uint8_t>(out, t.dtype.code);
      put<uint8_t>(out, static_cast<uint8_t>(t.shape.size()));
      for (int64_t d : t.shape) put<int64_t>(out, d);
      put<uint32_t>(out, static_cast<uint32_t>(host[k].size()));
      out.insert(out.end(), host[k].begin(), host[k].end());
      k++;
    }
    return out;
  }

  ~Session() {
    for (auto& t : tensors_)
      if (t.device) (void)cudaFree(t.device);
  }

 private:
  void describe(Tensor& t, nvinfer1::DataType type, const nvinfer1::Dims& dims, bool linear) {
    if (!dtypeOf(type, t.dtype)) fail("UNSUPPORTED_DTYPE", "tensor " + t.name + " has TensorRT DataType " + std::to_string(static_cast<int>(type)) + ", which trt-runner does not carry");
    if (!linear) fail("UNSUPPORTED_FORMAT", "tensor " + t.name + " is not in the linear (row-major) format; rebuild the engine with linear I/O formats");
    if (dims.nbDims < 0) fail("TENSORRT", "the engine reports no shape for tensor " + t.name);
    t.engineShape = shapeOf(dims);
  }

  void setInputShape(const Tensor& t) {
#if RUNNER_NAMED_TENSORS
    const bool ok = ctx_.setInputShape(t.name.c_str(), dimsOf(t.shape));
#else
    const bool ok = ctx_.setBindingDimensions(t.binding, dimsOf(t.shape));
#endif
    if (!ok) fail("SHAPE_REJECTED", "TensorRT rejected shape " + shapeText(t.shape) + " for input " + t.name + " (outside the engine's optimization profile)");
  }

  Shape outputShape(const Tensor& t, int32_t batch) const {
    if (implicitBatch_) {
      Shape s = t.engineShape;
      s[0] = batch;
      return s;
    }
    // Re-read after the input shapes are set: TensorRT resolves -1 dims from them.
#if RUNNER_NAMED_TENSORS
    const nvinfer1::Dims d = ctx_.getTensorShape(t.name.c_str());
#else
    const nvinfer1::Dims d = ctx_.getBindingDimensions(t.binding);
#endif
    if (d.nbDims < 0) fail("TENSORRT", "TensorRT reports no shape for output " + t.name);
    Shape s = shapeOf(d);
    for (int64_t v : s)
      if (v < 0) fail("DATA_DEPENDENT_SHAPE", "output " + t.name + " has a data-dependent shape " + shapeText(s) + "; trt-runner cannot size it");
    return s;
  }

  void enqueue(int32_t batch, cudaStream_t stream) {
#if RUNNER_IMPLICIT_BATCH
    if (implicitBatch_) return enqueueImplicit(batch, stream);
#endif
    (void)batch;
#if RUNNER_NAMED_TENSORS
    for (const auto& t : tensors_)
      if (!ctx_.setTensorAddress(t.name.c_str(), t.device)) fail("TENSORRT", "setTensorAddress failed for " + t.name);
    if (!ctx_.enqueueV3(stream)) fail("ENQUEUE_FAILED", "enqueueV3 failed (see the [trt] log lines)");
#else
    std::vector<void*> bindings(tensors_.size(), nullptr);
    for (const auto& t : tensors_) bindings[static_cast<size_t>(t.binding)] = t.device;
    if (!ctx_.enqueueV2(bindings.data(), stream, nullptr)) fail("ENQUEUE_FAILED", "enqueueV2 failed (see the [trt] log lines)");
#endif
  }

#if RUNNER_IMPLICIT_BATCH
  // Implicit-batch engines (TAO UFF .etlt through tao-converter) run only through enqueue(batch,
  // bindings): TensorRT deprecated it in 8.4 with no successor for implicit batch (enqueueV2/V3
  // take explicit-batch engines) and removed both in 10. The suppression is scoped to this
  // function, where the deprecated calls are the only API there is.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  int32_t implicitMaxBatch() const { return engine_.getMaxBatchSize(); }

  void enqueueImplicit(int32_t batch, cudaStream_t stream) {
    const size_t count = tensors_.size();
    std::vector<void*> bindings(count, nullptr);
    for (const auto& t : tensors_) {
#if RUNNER_NAMED_TENSORS
      const int32_t index = engine_.getBindingIndex(t.name.c_str());
#else
      const int32_t index = t.binding;
#endif
      if (index < 0 || static_cast<size_t>(index) >= count) fail("TENSORRT", "no binding index for " + t.name);
      bindings[static_cast<size_t>(index)] = t.device;
    }
    if (!ctx_.enqueue(batch, bindings.data(), stream, nullptr)) fail("ENQUEUE_FAILED", "enqueue failed (see the [trt] log lines)");
  }
#pragma GCC diagnostic pop
#endif

  nvinfer1::ICudaEngine& engine_;
  nvinfer1::IExecutionContext& ctx_;
  int maxBatch_;
  bool implicitBatch_ = false;
  std::vector<Tensor> tensors_;
};

int parseMaxBatch(const char* text) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (!end || *end || v < 1 || v > 4096) fail("USAGE", std::string("--max-batch must be 1..4096, got ") + text);
  return static_cast<int>(v);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    std::string enginePath;
    int maxBatch = 64;
    for (int i = 1; i + 1 < argc; i++) {
      if (std::string(argv[i]) == "--engine") enginePath = argv[i + 1];
      if (std::string(argv[i]) == "--max-batch") maxBatch = parseMaxBatch(argv[i + 1]);
    }
    if (enginePath.empty()) fail("USAGE", "usage: trt-runner --engine FILE [--max-batch N]");
    std::ifstream f(enginePath, std::ios::binary);
    if (!f) fail("ENGINE_UNREADABLE", "cannot open engine " + enginePath);
    std::vector<char> blob((std::istreambuf_iterator<char>(f)), std::istreambuf_iterator<char>());
    // BatchedNMS_TRT / BatchedNMSDynamic_TRT and the other creators live in libnvinfer_plugin.
    if (!initLibNvInferPlugins(&gLogger, "")) fail("PLUGINS", "initLibNvInferPlugins failed");
    TrtPtr<nvinfer1::IRuntime> runtime(nvinfer1::createInferRuntime(gLogger));
    if (!runtime) fail("TENSORRT", "createInferRuntime failed (libnvinfer does not match the headers this runner was built with?)");
    TrtPtr<nvinfer1::ICudaEngine> engine(runtime->deserializeCudaEngine(blob.data(), blob.size()));
    if (!engine) fail("DESERIALIZE_FAILED", "deserializeCudaEngine failed (TensorRT version, plugin or GPU mismatch)");
    TrtPtr<nvinfer1::IExecutionContext> ctx(engine->createExecutionContext());
    if (!ctx) fail("TENSORRT", "createExecutionContext failed (out of GPU memory?)");
    cudaStream_t stream;
    checkCuda(cudaStreamCreate(&stream), "cudaStreamCreate");

    Session session(*engine, *ctx, maxBatch);
    session.load();
    const std::string h = session.hello();
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
      if (head[4] != INFER || len < 4) continue;
      uint32_t id;
      std::memcpy(&id, payload.data(), 4);
      try {
        Reader r(payload);
        (void)r.get<uint32_t>();
        writeFrame(RESULT, session.infer(id, r, stream));
      } catch (const RunnerError& e) {
        sendError(id, e.code, e.what());
        if (e.code == "CUDA") {
          // The device state is unknown after a CUDA error: exit, the agent restarts the runner.
          std::cerr << "trt-runner: [CUDA] " << e.what() << std::endl;
          return 1;
        }
      }
    }
  } catch (const RunnerError& e) {
    std::cerr << "trt-runner: [" << e.code << "] " << e.what() << std::endl;
    sendError(0, e.code, e.what());
    return 1;
  } catch (const std::exception& e) {
    std::cerr << "trt-runner: " << e.what() << std::endl;
    sendError(0, "INTERNAL", e.what());
    return 1;
  }
}
