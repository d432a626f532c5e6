// Test helper: starts the webgpu backend on SwiftShader (the software Vulkan driver in Debian's chromium
// package, which CI installs). A machine without it fails here with what to install, never a silent skip.
import * as assert from 'node:assert/strict';
import type { EngineInfo } from '../../../../src/core/engine';
import { initEngine } from '../../../../src/core/engine';
import { registerGradients } from '../../../../src/core/engine/gradients';

export async function startSoftwareWebgpu(): Promise<EngineInfo> {
  assert.equal(registerGradients(), undefined);
  process.env.LLM_LAB_WEBGPU_SOFTWARE = '1';
  try {
    return await initEngine('webgpu');
  } catch (e) {
    throw new Error(`The webgpu tests run on SwiftShader: apt-get install chromium (npm test installs it when it can). ${e instanceof Error ? e.message : String(e)}`);
  }
}
