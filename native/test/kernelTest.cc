// Checks every native kernel against plain double-precision loops (and the gradients against finite
// differences), without Node: the same file is built for this machine and cross-built for arm64, where it
// runs under qemu-user. Prints one line per failed check and "kernel tests: N passed" at the end; exits 1
// on any failure. Also checks that an exception thrown on a pool thread reaches the caller and that the
// pool runs the next job.
#include <cmath>
#include <cstdio>
#include <functional>
#include <new>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "../src/gemm.h"
#include "../src/kernels.h"
#include "../src/threadPool.h"

using namespace llmlab;

namespace {

int passed = 0, failed = 0;
std::mt19937 rng(12345);

std::vector<float> rnd(size_t n, float scale = 1.f) {
  std::uniform_real_distribution<float> d(-scale, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = d(rng);
  return v;
}

void check(bool ok, const std::string& what) {
  if (ok) {
    passed++;
  } else {
    failed++;
    std::printf("FAIL %s\n", what.c_str());
  }
}

// |a − b| ≤ atol + rtol·|b| everywhere.
void close(const float* a, const std::vector<double>& b, double atol, double rtol, const std::string& what) {
  for (size_t i = 0; i < b.size(); i++) {
    if (!(std::fabs(a[i] - b[i]) <= atol + rtol * std::fabs(b[i]))) {
      check(false, what + ": element " + std::to_string(i) + " is " + std::to_string(a[i]) + ", expected " +
                       std::to_string(b[i]));
      return;
    }
  }
  check(true, what);
}

void testGemm(int64_t m, int64_t n, int64_t k, bool ta, bool tb, float alpha, float beta, bool bias) {
  auto a = rnd(m * k), b = rnd(k * n), c0 = rnd(m * n), bv = rnd(n);
  std::vector<float> c = c0;
  GemmArgs g;
  g.m = m, g.n = n, g.k = k, g.alpha = alpha, g.beta = beta;
  g.a = a.data(), g.aRow = ta ? 1 : k, g.aCol = ta ? m : 1;  // A stored (k, m) when transposed
  g.b = b.data(), g.bRow = tb ? 1 : n, g.bCol = tb ? k : 1;
  g.c = c.data(), g.ldc = n, g.bias = bias ? bv.data() : nullptr;
  gemm(g, 64);
  std::vector<double> want(m * n);
  for (int64_t i = 0; i < m; i++)
    for (int64_t j = 0; j < n; j++) {
      double s = 0;
      for (int64_t p = 0; p < k; p++) s += double(a[i * g.aRow + p * g.aCol]) * b[p * g.bRow + j * g.bCol];
      want[i * n + j] = alpha * s + (beta == 0.f ? 0.0 : double(beta) * c0[i * n + j]) + (bias ? bv[j] : 0.0);
    }
  close(c.data(), want, 1e-4 * k, 1e-4,
        "gemm " + std::to_string(m) + "x" + std::to_string(n) + "x" + std::to_string(k) + (ta ? " At" : "") +
            (tb ? " Bt" : "") + (bias ? " bias" : "") + (beta != 0.f ? " beta" : ""));
}

void testLayerNorm() {
  const int64_t n = 7, c = 45;
  auto x = rnd(n * c, 2.f), gamma = rnd(c), beta = rnd(c), dy = rnd(n * c);
  std::vector<float> y(n * c), mean(n), rstd(n), dx(n * c), dg(c), db(c);
  layerNormForward(x.data(), gamma.data(), beta.data(), n, c, 1e-5f, y.data(), mean.data(), rstd.data());
  std::vector<double> want(n * c);
  for (int64_t r = 0; r < n; r++) {
    double mu = 0, var = 0;
    for (int64_t j = 0; j < c; j++) mu += x[r * c + j];
    mu /= c;
    for (int64_t j = 0; j < c; j++) var += (x[r * c + j] - mu) * (x[r * c + j] - mu);
    const double rs = 1 / std::sqrt(var / c + 1e-5);
    for (int64_t j = 0; j < c; j++) want[r * c + j] = (x[r * c + j] - mu) * rs * gamma[j] + beta[j];
  }
  close(y.data(), want, 1e-5, 1e-4, "layerNorm forward");
  // Gradients of L = Σ dy·y by central differences in double, on the forward kernel itself.
  layerNormBackward(dy.data(), x.data(), gamma.data(), mean.data(), rstd.data(), n, c, dx.data(), dg.data(), db.data());
  auto loss = [&](std::vector<float>& xs, std::vector<float>& gs, std::vector<float>& bs) {
    std::vector<float> yy(n * c), mm(n), rr(n);
    layerNormForward(xs.data(), gs.data(), bs.data(), n, c, 1e-5f, yy.data(), mm.data(), rr.data());
    double s = 0;
    for (int64_t i = 0; i < n * c; i++) s += double(dy[i]) * yy[i];
    return s;
  };
  const float h = 1e-2f;
  std::vector<double> wantDx(n * c), wantDg(c);
  for (int64_t i = 0; i < n * c; i++) {
    auto xp = x, xm = x;
    xp[i] += h, xm[i] -= h;
    wantDx[i] = (loss(xp, gamma, beta) - loss(xm, gamma, beta)) / (2 * h);
  }
  for (int64_t j = 0; j < c; j++) {
    auto gp = gamma, gm = gamma;
    gp[j] += h, gm[j] -= h;
    wantDg[j] = (loss(x, gp, beta) - loss(x, gm, beta)) / (2 * h);
  }
  close(dx.data(), wantDx, 2e-3, 2e-2, "layerNorm dx (finite differences)");
  close(dg.data(), wantDg, 2e-3, 2e-2, "layerNorm dgamma (finite differences)");
  std::vector<double> wantDb(c, 0.0);
  for (int64_t r = 0; r < n; r++)
    for (int64_t j = 0; j < c; j++) wantDb[j] += dy[r * c + j];
  close(db.data(), wantDb, 1e-5, 1e-4, "layerNorm dbeta");
}

void testGelu() {
  const int64_t n = 1000 + 5;
  auto x = rnd(n, 6.f), dy = rnd(n);
  std::vector<float> y(n), dx(n);
  geluForward(x.data(), y.data(), n);
  geluBackward(x.data(), dy.data(), dx.data(), n);
  auto gelu = [](double v) { return 0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))); };
  std::vector<double> want(n), wantDx(n);
  for (int64_t i = 0; i < n; i++) {
    want[i] = gelu(x[i]);
    wantDx[i] = dy[i] * (gelu(x[i] + 1e-4) - gelu(x[i] - 1e-4)) / 2e-4;
  }
  close(y.data(), want, 1e-6, 1e-5, "gelu forward");
  close(dx.data(), wantDx, 1e-5, 1e-4, "gelu backward");
}

void testCrossEntropy() {
  const int64_t n = 6, v = 301;
  auto z = rnd(n * v, 30.f);
  std::vector<int32_t> t = {3, 300, -100, 0, 77, 150};
  std::vector<float> lse(n), dz(n * v);
  int64_t count = 0;
  const double sum = crossEntropyForward(z.data(), t.data(), n, v, -100, lse.data(), &count);
  double want = 0;
  std::vector<double> wantLse(n), wantDz(n * v, 0.0);
  const float scale = 0.2f;
  for (int64_t r = 0; r < n; r++) {
    double mx = -1e30, s = 0;
    for (int64_t j = 0; j < v; j++) mx = std::max(mx, double(z[r * v + j]));
    for (int64_t j = 0; j < v; j++) s += std::exp(z[r * v + j] - mx);
    wantLse[r] = mx + std::log(s);
    if (t[r] == -100) continue;
    want += wantLse[r] - z[r * v + t[r]];
    for (int64_t j = 0; j < v; j++) wantDz[r * v + j] = scale * (std::exp(z[r * v + j] - wantLse[r]) - (j == t[r]));
  }
  check(count == 5, "crossEntropy counts the rows not ignored");
  check(std::fabs(sum - want) <= 1e-4 * std::fabs(want), "crossEntropy loss sum");
  close(lse.data(), wantLse, 1e-4, 1e-5, "crossEntropy log-sum-exp");
  crossEntropyBackward(z.data(), t.data(), lse.data(), n, v, -100, scale, dz.data());
  close(dz.data(), wantDz, 1e-6, 1e-4, "crossEntropy backward");
}

// With `drop`, the reference weighs the values by P_ij·F_ij (F the mask's factor of weight (p·Tq + i)·Tk + j).
void testAttention(const DropoutMask* drop) {
  const std::string tag = drop ? "attention with dropout" : "attention";
  const int64_t bh = 3, tq = 5, tk = 9, d = 20, off = tk - tq;
  auto q = rnd(bh * tq * d), k = rnd(bh * tk * d), v = rnd(bh * tk * d), dout = rnd(bh * tq * d);
  std::vector<float> out(bh * tq * d), lse(bh * tq), w(bh * tq * tk);
  attentionForward(q.data(), k.data(), v.data(), bh, tq, tk, d, off, out.data(), lse.data(), w.data(), drop);
  std::vector<double> want(bh * tq * d, 0.0), wantW(bh * tq * tk, 0.0);
  for (int64_t p = 0; p < bh; p++)
    for (int64_t i = 0; i < tq; i++) {
      std::vector<double> s(tk);
      double mx = -1e30, sum = 0;
      const int64_t keys = off + i + 1;
      for (int64_t j = 0; j < keys; j++) {
        double dot = 0;
        for (int64_t e = 0; e < d; e++) dot += double(q[(p * tq + i) * d + e]) * k[(p * tk + j) * d + e];
        s[j] = dot / std::sqrt(double(d));
        mx = std::max(mx, s[j]);
      }
      for (int64_t j = 0; j < keys; j++) sum += std::exp(s[j] - mx);
      for (int64_t j = 0; j < keys; j++) {
        const double pj = std::exp(s[j] - mx) / sum;
        wantW[(p * tq + i) * tk + j] = pj;
        const double f = drop ? dropoutFactor(*drop, uint64_t((p * tq + i) * tk + j)) : 1.0;
        for (int64_t e = 0; e < d; e++) want[(p * tq + i) * d + e] += pj * f * v[(p * tk + j) * d + e];
      }
    }
  close(out.data(), want, 1e-5, 1e-4, tag + " forward");
  close(w.data(), wantW, 1e-6, 1e-4, tag + " weights (causal with an offset)");
  std::vector<float> dq(q.size()), dk(k.size()), dv(v.size());
  attentionBackward(q.data(), k.data(), v.data(), out.data(), dout.data(), lse.data(), bh, tq, tk, d, off, dq.data(),
                    dk.data(), dv.data(), drop);
  auto loss = [&](const std::vector<float>& qs, const std::vector<float>& ks, const std::vector<float>& vs) {
    std::vector<float> o(bh * tq * d), l(bh * tq);
    attentionForward(qs.data(), ks.data(), vs.data(), bh, tq, tk, d, off, o.data(), l.data(), nullptr, drop);
    double s = 0;
    for (size_t i = 0; i < o.size(); i++) s += double(dout[i]) * o[i];
    return s;
  };
  const float h = 1e-2f;
  auto fd = [&](std::vector<float>& x, int which) {
    std::vector<double> g(x.size());
    for (size_t i = 0; i < x.size(); i++) {
      const float keep = x[i];
      x[i] = keep + h;
      const double lp = loss(q, k, v);
      x[i] = keep - h;
      const double lm = loss(q, k, v);
      x[i] = keep;
      g[i] = (lp - lm) / (2 * h);
    }
    (void)which;
    return g;
  };
  close(dq.data(), fd(q, 0), 2e-3, 2e-2, tag + " dq (finite differences)");
  close(dk.data(), fd(k, 1), 2e-3, 2e-2, tag + " dk (finite differences)");
  close(dv.data(), fd(v, 2), 2e-3, 2e-2, tag + " dv (finite differences)");
}

// Dropout: x·F_i with F_i the mask's factor, about (1 − rate) of the elements kept, none when the threshold
// is 0 would drop nothing.
void testDropout() {
  const int64_t n = 100003;
  auto x = rnd(n);
  std::vector<float> y(n);
  const DropoutMask m{858993459u /* ⌊0.2·2³²⌋ */, 12345u, 678u, 1.25f};
  dropoutApply(x.data(), y.data(), n, m);
  int64_t kept = 0;
  bool ok = true;
  for (int64_t i = 0; i < n; i++) {
    const bool keep = dropoutBits(m.k0, m.k1, uint32_t(i)) >= m.threshold;
    kept += keep;
    ok = ok && y[i] == (keep ? x[i] * 1.25f : 0.f);
  }
  check(ok, "dropout keeps by the hash and scales the kept");
  check(std::abs(double(kept) / n - 0.8) < 0.005, "dropout keeps about 1 − rate (" + std::to_string(kept) + " of " + std::to_string(n) + ")");
}

void testSmallKernels() {
  const int64_t rows = 11, c = 13;
  std::vector<float> table = rnd(rows * c), out(4 * c);
  std::vector<int32_t> ids = {3, 0, 10, 3};
  check(embeddingForward(ids.data(), 4, table.data(), rows, c, out.data()) == -1, "embedding accepts ids in range");
  std::vector<double> want(4 * c);
  for (int i = 0; i < 4; i++)
    for (int64_t j = 0; j < c; j++) want[i * c + j] = table[ids[i] * c + j];
  close(out.data(), want, 0, 0, "embedding forward");
  std::vector<int32_t> bad = {1, 11};
  check(embeddingForward(bad.data(), 2, table.data(), rows, c, out.data()) == 1, "embedding names the first bad id");
  auto dy = rnd(4 * c);
  std::vector<float> dtable(rows * c, 7.f);
  embeddingBackward(ids.data(), 4, dy.data(), rows, c, dtable.data());
  std::vector<double> wantT(rows * c, 0.0);
  for (int i = 0; i < 4; i++)
    for (int64_t j = 0; j < c; j++) wantT[ids[i] * c + j] += dy[i * c + j];
  close(dtable.data(), wantT, 1e-6, 1e-6, "embedding backward (repeated id summed)");

  auto x = rnd(rows * c);
  std::vector<float> sums(c);
  columnSums(x.data(), rows, c, sums.data());
  std::vector<double> wantS(c, 0.0);
  for (int64_t i = 0; i < rows; i++)
    for (int64_t j = 0; j < c; j++) wantS[j] += x[i * c + j];
  close(sums.data(), wantS, 1e-5, 1e-5, "column sums");

  const int64_t n = 37;
  auto p = rnd(n), g = rnd(n), m = rnd(n, 0.1f), v2 = rnd(n, 0.1f);
  for (auto& e : v2) e = std::fabs(e);
  std::vector<double> wantP(n);
  const double lr = 0.01, b1 = 0.9, b2 = 0.95, eps = 1e-8, wd = 0.1;
  const int step = 3;
  for (int64_t i = 0; i < n; i++) {
    const double mi = b1 * m[i] + (1 - b1) * g[i], vi = b2 * v2[i] + (1 - b2) * g[i] * g[i];
    const double mh = mi / (1 - std::pow(b1, step)), vh = vi / (1 - std::pow(b2, step));
    wantP[i] = p[i] * (1 - lr * wd) - lr * mh / (std::sqrt(vh) + eps);
  }
  adamw(p.data(), g.data(), m.data(), v2.data(), n, float(lr), float(b1), float(b2), float(eps), float(wd), step);
  close(p.data(), wantP, 1e-6, 1e-5, "AdamW step");

  // A (2, 3, 4) array read transposed to (4, 2, 3) from offset 0, then a slice.
  std::vector<uint32_t> src(24), dst(24);
  for (uint32_t i = 0; i < 24; i++) src[i] = i;
  const int64_t shape[3] = {4, 2, 3}, strides[3] = {1, 12, 4};
  stridedCopy(src.data(), dst.data(), shape, strides, 3, 0);
  bool ok = true;
  for (int64_t a = 0; a < 4; a++)
    for (int64_t b = 0; b < 2; b++)
      for (int64_t e = 0; e < 3; e++) ok = ok && dst[(a * 2 + b) * 3 + e] == src[b * 12 + e * 4 + a];
  check(ok, "strided copy (a transpose)");
  auto ar = rnd(12), br = rnd(4);
  std::vector<float> o(12);
  addRepeat(ar.data(), 12, br.data(), 4, o.data());
  std::vector<double> wantO(12);
  for (int i = 0; i < 12; i++) wantO[i] = double(ar[i]) + br[i % 4];
  close(o.data(), wantO, 1e-7, 0, "add with the smaller operand repeated");
  for (int m : {1, 4, 12}) {
    mulRepeat(ar.data(), 12, br.data(), m, o.data());
    bool exact = true;
    for (int i = 0; i < 12; i++) exact = exact && o[i] == ar[i] * br[i % m];
    check(exact, "multiply with the smaller operand repeated, m = " + std::to_string(m));
  }
  std::vector<float> grid = {1, 5, 5, 2, NAN, 3, 9, 0, 4, 4, 4, 4};
  std::vector<int32_t> arg(3);
  argMaxRows(grid.data(), 3, 4, arg.data());
  // As TensorFlow.js: the first of equal maxima; a NaN in front is never beaten, a later one never wins.
  check(arg[0] == 1 && arg[1] == 0 && arg[2] == 0, "arg max of rows: first of equal maxima, NaN as TensorFlow.js");
}

// The ziggurat's tables as rng.ts builds them (Marsaglia and Tsang, 128 layers, 24-bit magnitudes).
void zigguratTables(std::vector<double>& k, std::vector<double>& w, std::vector<double>& f) {
  const double r = 3.442619855899, v = 9.91256303526217e-3, m1 = 16777216.0;
  k.assign(128, 0);
  w.assign(128, 0);
  f.assign(128, 0);
  double dn = r, tn = r;
  const double q = v / std::exp(-0.5 * dn * dn);
  k[0] = dn / q * m1;
  w[0] = q / m1;
  w[127] = dn / m1;
  f[0] = 1;
  f[127] = std::exp(-0.5 * dn * dn);
  for (int i = 126; i >= 1; i--) {
    dn = std::sqrt(-2 * std::log(v / dn + std::exp(-0.5 * dn * dn)));
    k[i + 1] = dn / tn * m1;
    tn = dn;
    f[i] = std::exp(-0.5 * dn * dn);
    w[i] = dn / m1;
  }
}

void testFillNormal() {
  std::vector<double> k, w, f;
  zigguratTables(k, w, f);
  const int64_t n = 400000;
  std::vector<float> a(n), b(n);
  uint32_t s1[4] = {1, 2, 3, 4}, s2[4] = {1, 2, 3, 4};
  fillNormal(s1, a.data(), n, 0.5, k.data(), w.data(), f.data());
  fillNormal(s2, b.data(), n / 2, 0.5, k.data(), w.data(), f.data());
  fillNormal(s2, b.data() + n / 2, n - n / 2, 0.5, k.data(), w.data(), f.data());
  bool same = true;
  for (int64_t i = 0; i < n; i++) same = same && a[i] == b[i];
  check(same && s1[0] == s2[0] && s1[3] == s2[3], "normal samples: one fill equals two fills that continue the state");
  double sum = 0, sq = 0;
  int64_t tail = 0;
  for (float x : a) {
    sum += x;
    sq += double(x) * x;
    if (std::fabs(x) > 3.442619855899 * 0.5) tail++;
  }
  const double mean = sum / n, var = sq / n - mean * mean;
  // Standard errors: mean 0.5/√n ≈ 8e-4, variance ≈ 0.25·√(2/n) ≈ 5.6e-4; tail mass 5.8e-4 (about 230 of n).
  check(std::fabs(mean) < 4e-3 && std::fabs(var - 0.25) < 3e-3, "normal samples: mean 0 and variance std²");
  check(tail > 150 && tail < 320, "normal samples: the tail beyond R holds its share (" + std::to_string(tail) + ")");
}

void testPoolExceptions() {
  for (int round = 0; round < 3; round++) {
    bool caught = false;
    try {
      pool().run(poolThreads(), [&](int i, int) {
        if (i == poolThreads() - 1) throw std::runtime_error("kernel failed on a pool thread");
      });
    } catch (const std::runtime_error& e) {
      caught = std::string(e.what()) == "kernel failed on a pool thread";
    }
    check(caught, "an exception on a pool thread reaches the caller");
    bool oom = false;
    try {
      parallelFor(8, 1, [&](int64_t, int64_t) { std::vector<float> huge(size_t(1) << 46); });
    } catch (const std::bad_alloc&) {
      oom = true;
    }
    check(oom, "an allocation failure in a parallel loop reaches the caller as std::bad_alloc");
    std::vector<int> hits(64, 0);
    parallelFor(64, 1, [&](int64_t a, int64_t b) {
      for (int64_t i = a; i < b; i++) hits[i]++;
    });
    bool all = true;
    for (int h : hits) all = all && h == 1;
    check(all, "the pool runs the next job in full after a failure");
  }
}

}  // namespace

int main() {
  for (bool ta : {false, true})
    for (bool tb : {false, true}) {
      testGemm(37, 53, 29, ta, tb, 1.f, 0.f, false);
      testGemm(150, 70, 300, ta, tb, 0.5f, 0.f, true);  // more than one K block, several tiles
    }
  testGemm(2, 200, 64, false, false, 1.f, 0.f, true);   // few rows (generation): no packing
  testGemm(2, 200, 64, false, true, 1.f, 0.f, false);
  testGemm(13, 17, 5, false, false, 1.f, 0.5f, true);  // beta accumulates into C
  testLayerNorm();
  testGelu();
  testCrossEntropy();
  testAttention(nullptr);
  const DropoutMask attentionDrop{1073741824u /* rate 0.25 */, 99u, 4242u, 4.f / 3.f};
  testAttention(&attentionDrop);
  testDropout();
  testSmallKernels();
  testFillNormal();
  testPoolExceptions();
  std::printf("kernel tests: %d passed, %d failed (%d pool threads)\n", passed, failed, poolThreads());
  return failed == 0 ? 0 : 1;
}
