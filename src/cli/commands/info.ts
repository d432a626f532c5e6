// `llm-lab info`: a model's size and memory needs (from a model folder or a preset), and the compute backend
// this machine runs with and why the others were not used.
import { bool, choice, int, str } from '../args';
import type { Command } from '../command';
import { modelInfo } from '../../core/inspect';
import { PRETRAIN_DEFAULTS } from '../../core/train';
import type { ModelInfo } from '../../core/inspect';
import { formatBytes, PRESET_NAMES, PRESETS } from '../../core/model/config';
import type { GptConfig } from '../../core/model/config';
import { LlmLabError } from '../../core/errors';
import { printJson, println } from '../io';
import { compact, thousands } from '../format';
import { BACKEND_OPTION, describeBackend, startEngine } from './shared';
import { readModelConfig } from './modelFolder';

function configLines(c: GptConfig): string[] {
  return [
    `  layers ${c.nLayers}, heads ${c.nHeads}, width ${c.embDim}, context ${c.contextLength}, vocabulary ${thousands(c.vocabSize)}`,
    `  dropout ${c.dropRate}, qkv bias ${c.qkvBias ? 'yes' : 'no'}, head ${c.tiedHead ? 'tied to the token embedding' : 'separate'}`,
  ];
}

function infoLines(title: string, i: ModelInfo): string[] {
  const t = i.training;
  return [
    title,
    ...configLines(i.config),
    `parameters: ${thousands(i.parameters)} (${compact(i.parameters)})`,
    `memory, training with batch ${i.batchSize}: ${formatBytes(t.trainingBytes)}` +
      ` (weights ${formatBytes(t.weightsBytes)}, gradients ${formatBytes(t.gradientsBytes)}, AdamW ${formatBytes(t.optimizerBytes)}, activations ${formatBytes(t.activationsBytes)})`,
    `memory, inference (one sequence of ${i.config.contextLength} tokens): ${formatBytes(i.inferenceBytes)}`,
  ];
}

export const infoCommand: Command = {
  name: 'info',
  summary: 'Show a model’s parameters and memory needs, and the compute backend in use.',
  usage: 'info [--model DIR | --preset NAME] [--batch N] [--backend B]',
  description: 'Without --model or --preset it lists the presets. Memory is a float32 estimate made before anything is built.',
  options: {
    model: { type: 'string', value: 'DIR', help: 'A model folder (config.json + model.safetensors) or a training run folder.' },
    preset: { type: 'string', value: 'NAME', help: `A preset: ${PRESET_NAMES.join(', ')}.` },
    batch: { type: 'string', value: 'N', help: `Batch size of the training memory estimate (default ${PRETRAIN_DEFAULTS.batchSize}, pretrain's).` },
    ...BACKEND_OPTION,
  },
  examples: ['llm-lab info --preset gpt2', 'llm-lab info --model .llm-lab/runs/demo --json', 'llm-lab info --backend wasm'],
  async run({ values, io, json }) {
    const preset = choice(values, 'preset', PRESET_NAMES);
    const modelDir = str(values, 'model');
    if (preset && modelDir) throw new LlmLabError('bad-argument', "Give --model or --preset, not both; see 'llm-lab info --help'.");
    const batchSize = int(values, 'batch', 1) ?? PRETRAIN_DEFAULTS.batchSize;
    const engine = await startEngine(values);
    let info: ModelInfo | undefined;
    let title = '';
    if (preset) {
      info = modelInfo(PRESETS[preset], { batchSize });
      title = `preset ${preset}:`;
    } else if (modelDir) {
      const found = await readModelConfig(io, modelDir);
      info = modelInfo(found.config, { batchSize });
      title = `model ${found.dir}:`;
    }
    if (json || bool(values, 'json')) {
      const presets = info ? undefined : PRESET_NAMES.map((name) => ({ name, parameters: modelInfo(PRESETS[name]).parameters }));
      printJson(io, { ...(info ?? {}), ...(presets ? { presets } : {}), engine });
      return;
    }
    if (info) for (const l of infoLines(title, info)) println(io.stdout, l);
    else {
      println(io.stdout, 'presets:');
      for (const name of PRESET_NAMES) {
        const c = PRESETS[name];
        println(io.stdout, `  ${name.padEnd(12)} ${compact(modelInfo(c).parameters).padStart(7)} parameters, ${c.nLayers} layers, width ${c.embDim}, context ${c.contextLength}`);
      }
    }
    for (const l of describeBackend(engine)) println(io.stdout, l);
  },
};
