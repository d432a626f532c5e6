// The CPU check that runs before the native kernels load. llm_lab_native is compiled for a baseline
// (x86-64 with AVX2+FMA, or ARMv8-A with NEON); on a CPU without those instructions its first kernel would
// kill the process with SIGILL. llm_lab_cpu.node, built with no instruction-set flags so it loads anywhere,
// reports what this CPU and OS can run; `nativeCpuRefusal` turns a shortfall into the reason the engine
// report shows beside the native backend.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from './addon';

/** What llm_lab_cpu.node reports (native/src/cpuProbe.cc). */
export interface CpuFeatures {
  /** 'x64', 'arm64' or 'other'. */
  arch: string;
  sse42?: boolean;
  avx?: boolean;
  avx2?: boolean;
  fma?: boolean;
  avx512f?: boolean;
  neon?: boolean;
}

const PROBE_PATH = ['build', 'Release', 'llm_lab_cpu.node'];

/** Asks the probe addon what this CPU runs; throws an Error saying why when the probe is missing. */
export function probeCpu(): CpuFeatures {
  const root = packageRoot();
  const file = root ? join(root, ...PROBE_PATH) : undefined;
  if (!file || !existsSync(file)) throw new Error('its CPU check (llm_lab_cpu.node) is not built: run npm run build:native');
  const mod = { exports: {} as unknown };
  try {
    process.dlopen(mod, file);
  } catch (e) {
    throw new Error(`its CPU check could not load (${(e instanceof Error ? e.message : String(e)).split('\n')[0]}): run npm run build:native`);
  }
  return (mod.exports as { features(): CpuFeatures }).features();
}

/** The instructions the kernels need on each architecture, as a user reads them. */
const NEEDED: Record<string, { flags: (keyof CpuFeatures)[]; label: string }> = {
  x64: { flags: ['avx2', 'fma'], label: 'x86-64 with AVX2 and FMA' },
  arm64: { flags: ['neon'], label: 'ARMv8-A with NEON' },
};

/** Why the native kernels must not run on this CPU, or undefined when they may. */
export function nativeCpuRefusal(cpu: CpuFeatures): string | undefined {
  const need = NEEDED[cpu.arch];
  if (!need) return `no native kernels for this CPU architecture (${cpu.arch}); they are built for x64 and arm64`;
  const missing = need.flags.filter((f) => cpu[f] !== true);
  if (missing.length === 0) return undefined;
  const names = missing.map((f) => f.toUpperCase()).join(' and ');
  return `this CPU lacks ${names} (the native kernels are built for ${need.label}; running them would crash)`;
}

/** A short list of the vector instructions found, for the engine report ("AVX2, FMA; no AVX-512"). */
export function describeCpu(cpu: CpuFeatures): string {
  if (cpu.arch === 'x64') {
    const has = (['avx2', 'fma'] as const).filter((f) => cpu[f]).map((f) => f.toUpperCase());
    return `${has.join('+') || 'no AVX2/FMA'}${cpu.avx512f ? ', AVX-512 present (not used)' : ''}`;
  }
  if (cpu.arch === 'arm64') return cpu.neon ? 'NEON' : 'no NEON';
  return cpu.arch;
}
