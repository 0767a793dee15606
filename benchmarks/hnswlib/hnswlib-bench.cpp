// The same measurement as `papervec bench index`, made with hnswlib (Debian's libhnswlib-dev) on
// the files `papervec bench index --dump DIR` writes, so both indexes see exactly the same data.
// Inner-product space over unit vectors (cosine), single-thread build and single-thread searches,
// recall@k against the dumped exact top-100, the same warm-up and the same JSON names.
//   hnswlib-bench DIR DIM [--m 16] [--ef-construction 200] [--ef 10,20,40,80] [--k 10] [--json FILE]
#include <hnswlib/hnswlib.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <unordered_set>
#include <vector>

static std::vector<char> ReadAll(const std::string& path) {
  std::ifstream in(path, std::ios::binary | std::ios::ate);
  if (!in) { std::fprintf(stderr, "hnswlib-bench: cannot read %s\n", path.c_str()); std::exit(2); }
  std::vector<char> bytes(static_cast<size_t>(in.tellg()));
  in.seekg(0);
  in.read(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  return bytes;
}

template <typename T>
static std::vector<T> ReadRows(const std::string& path, size_t width) {
  std::vector<char> bytes = ReadAll(path);
  if (bytes.size() % (width * sizeof(T)) != 0) {
    std::fprintf(stderr, "hnswlib-bench: %s is not a whole number of %zu-wide rows\n", path.c_str(), width);
    std::exit(2);
  }
  std::vector<T> rows(bytes.size() / sizeof(T));
  std::copy(bytes.begin(), bytes.end(), reinterpret_cast<char*>(rows.data()));
  return rows;
}

static double Percentile(std::vector<double> sorted, double p) {
  std::sort(sorted.begin(), sorted.end());
  size_t i = static_cast<size_t>(p * (sorted.size() - 1) + 0.5);
  return sorted[std::min(i, sorted.size() - 1)];
}

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: hnswlib-bench DIR DIM [--m 16] [--ef-construction 200] [--ef 10,20,40,80] [--k 10] [--json FILE]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const size_t dim = std::strtoul(argv[2], nullptr, 10);
  size_t m = 16, efConstruction = 200, k = 10;
  std::vector<size_t> efs = {10, 20, 40, 80, 160, 320};
  std::string jsonPath;
  for (int i = 3; i + 1 < argc; i += 2) {
    std::string name = argv[i], value = argv[i + 1];
    if (name == "--m") m = std::stoul(value);
    else if (name == "--ef-construction") efConstruction = std::stoul(value);
    else if (name == "--k") k = std::stoul(value);
    else if (name == "--json") jsonPath = value;
    else if (name == "--ef") {
      efs.clear();
      std::stringstream list(value);
      for (std::string item; std::getline(list, item, ',');) efs.push_back(std::stoul(item));
    } else { std::fprintf(stderr, "hnswlib-bench: unknown option %s\n", name.c_str()); return 2; }
  }
  const size_t depth = 100;  // ids per query in groundtruth.i32
  std::vector<float> base = ReadRows<float>(dir + "/base.f32", dim);
  std::vector<float> queries = ReadRows<float>(dir + "/queries.f32", dim);
  std::vector<int> truth = ReadRows<int>(dir + "/groundtruth.i32", depth);
  const size_t n = base.size() / dim, queryCount = queries.size() / dim;
  if (truth.size() != queryCount * depth) { std::fprintf(stderr, "hnswlib-bench: groundtruth.i32 does not match queries.f32\n"); return 2; }
  std::printf("hnswlib: %zu base, %zu queries, dim %zu, M=%zu, efConstruction=%zu\n", n, queryCount, dim, m, efConstruction);

  hnswlib::InnerProductSpace space(dim);
  hnswlib::HierarchicalNSW<float> index(&space, n, m, efConstruction, 100);
  auto start = std::chrono::steady_clock::now();
  for (size_t i = 0; i < n; i++) index.addPoint(base.data() + i * dim, i);
  double buildSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("build: %.1f s, %.0f inserts/s (1 thread)\n", buildSeconds, n / buildSeconds);

  const size_t maxEf = *std::max_element(efs.begin(), efs.end());
  index.setEf(maxEf);
  for (int round = 0; round < 3; round++)
    for (size_t q = 0; q < std::min<size_t>(queryCount, 300); q++) index.searchKnn(queries.data() + q * dim, k);

  std::ostringstream runs;
  std::printf("%6s %10s %8s %8s %8s\n", "ef", "recall@10", "QPS", "p50 us", "p99 us");
  std::vector<double> latencies(queryCount);
  for (size_t e = 0; e < efs.size(); e++) {
    index.setEf(std::max(efs[e], k));
    size_t found = 0;
    auto runStart = std::chrono::steady_clock::now();
    for (size_t q = 0; q < queryCount; q++) {
      auto before = std::chrono::steady_clock::now();
      auto result = index.searchKnn(queries.data() + q * dim, k);
      latencies[q] = std::chrono::duration<double, std::micro>(std::chrono::steady_clock::now() - before).count();
      std::unordered_set<int> expected(truth.begin() + q * depth, truth.begin() + q * depth + k);
      for (; !result.empty(); result.pop()) found += expected.count(static_cast<int>(result.top().second));
    }
    double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - runStart).count();
    double recall = static_cast<double>(found) / (queryCount * k), qps = queryCount / seconds;
    double p50 = Percentile(latencies, 0.50), p99 = Percentile(latencies, 0.99);
    std::printf("%6zu %10.4f %8.0f %8.0f %8.0f\n", efs[e], recall, qps, p50, p99);
    runs << (e ? "," : "") << "{\"ef\":" << efs[e] << ",\"recall\":" << recall << ",\"qps\":" << qps
         << ",\"p50Us\":" << p50 << ",\"p99Us\":" << p99 << "}";
  }
  if (!jsonPath.empty()) {
    std::ofstream json(jsonPath);
    json << "{\"tool\":\"hnswlib\",\"build\":{\"seconds\":" << buildSeconds << ",\"insertsPerSecond\":" << n / buildSeconds
         << ",\"threads\":1},\"runs\":[" << runs.str() << "]}\n";
  }
  return 0;
}
