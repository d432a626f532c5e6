// `llm-lab info`: a model's size and memory needs (from a model folder or a preset), and the compute backend
// this machine runs with and why the others were not used.
import { bool, choice, int, num, str } from '../args';
import { LORA_TARGETS, loraParameterCount, loraSites, parseLoraTargets } from '../../core/lora';
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
import type { TrainableChoice } from '../../core/classify';
import { countTrainable, isTrainableChoice } from '../../core/classify';
import { parameterShapes } from '../../core/model/gpt';

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
  usage: 'info [--model DIR | --preset NAME] [--batch N] [--classes N] [--lora-rank R [--lora-alpha A] [--lora-targets T]] [--backend B]',
  description:
    'Without --model or --preset it lists the presets. Memory is a float32 estimate made before anything is built. ' +
    '--classes N counts a classification head of N outputs instead of the language-model head; --lora-rank shows the ' +
    'values LoRA adapters of that rank would train (trainableParameters), the base frozen.',
  options: {
    model: { type: 'string', value: 'DIR', help: 'A model folder (config.json + model.safetensors) or a training run folder.' },
    preset: { type: 'string', value: 'NAME', help: `A preset: ${PRESET_NAMES.join(', ')}.` },
    batch: { type: 'string', value: 'N', help: `Batch size of the training memory estimate (default ${PRETRAIN_DEFAULTS.batchSize}, pretrain's).` },
    classes: { type: 'string', value: 'N', help: 'Count a classification head of N classes (width × N, no bias) instead of the LM head.' },
    trainable: { type: 'string', value: 'WHAT', help: 'With a classifier or --classes: count what head, last-block, last-N or all trains (default: all; a classifier: what it trained).' },
    'lora-rank': { type: 'string', value: 'R', help: 'Show what LoRA adapters of rank R train.' },
    'lora-alpha': { type: 'string', value: 'A', help: 'LoRA alpha (default: the rank).' },
    'lora-targets': { type: 'string', value: 'T', help: `Adapted layers, a comma list of ${LORA_TARGETS.join(', ')} (default all).` },
    ...BACKEND_OPTION,
  },
  examples: [
    'llm-lab info --preset gpt2',
    'llm-lab info --model .llm-lab/runs/demo --json',
    'llm-lab info --preset gpt2 --classes 2 --lora-rank 16 --lora-alpha 16 --json',
    'llm-lab info --backend wasm',
  ],
  async run({ values, io, json }) {
    const preset = choice(values, 'preset', PRESET_NAMES);
    const modelDir = str(values, 'model');
    if (preset && modelDir) throw new LlmLabError('bad-argument', "Give --model or --preset, not both; see 'llm-lab info --help'.");
    const batchSize = int(values, 'batch', 1) ?? PRETRAIN_DEFAULTS.batchSize;
    const classes = int(values, 'classes', 2);
    const loraRank = int(values, 'lora-rank', 1);
    const loraAlpha = num(values, 'lora-alpha', 0, Infinity, true) ?? loraRank;
    const targetsFlag = str(values, 'lora-targets');
    if (loraRank === undefined && (targetsFlag !== undefined || str(values, 'lora-alpha') !== undefined)) {
      throw new LlmLabError('bad-argument', "--lora-alpha and --lora-targets need --lora-rank R; see 'llm-lab info --help'.");
    }
    const loraTargets = parseLoraTargets(targetsFlag ?? 'all');
    const engine = await startEngine(values);
    const trainableFlag = str(values, 'trainable');
    if (trainableFlag !== undefined && !isTrainableChoice(trainableFlag)) {
      throw new LlmLabError('bad-argument', `--trainable must be head, last-block, last-N (e.g. last-2) or all; got '${trainableFlag}'.`);
    }
    let info: ModelInfo | undefined;
    let title = '';
    let classLabels: string[] | undefined;
    let trainedAs: TrainableChoice | undefined;
    /** Values a LoRA classifier's adapters (and whole head) trained. */
    let loraTrained: number | undefined;
    if (preset) {
      info = modelInfo(PRESETS[preset], { batchSize });
      title = `preset ${preset}:`;
    } else if (modelDir) {
      const found = await readModelConfig(io, modelDir);
      classLabels = found.meta?.classifierLabels;
      const madeBy = (found.meta as { classifier?: { trainable?: unknown; trainableParameters?: unknown } } | undefined)?.classifier;
      const made = madeBy?.trainable;
      if (typeof made === 'string' && isTrainableChoice(made)) trainedAs = made;
      if (made === 'lora' && typeof madeBy?.trainableParameters === 'number') loraTrained = madeBy.trainableParameters;
      if (classLabels && classes !== undefined && classes !== classLabels.length) {
        throw new LlmLabError('bad-argument', `${found.dir} is a classifier of ${classLabels.length} classes; leave out --classes ${classes}.`);
      }
      info = modelInfo(found.config, { batchSize });
      title = classLabels ? `classifier ${found.dir} (classes: ${classLabels.join(', ')}):` : `model ${found.dir}:`;
    }
    let trainable: Record<string, unknown> = {};
    if (info) {
      const C = info.config.embDim;
      const nClasses = classLabels?.length ?? classes;
      if (nClasses !== undefined) info = { ...info, parameters: info.parameters + nClasses * C };
      const head = nClasses === undefined ? undefined : { outDim: nClasses, param: 'score.weight' };
      // A classifier's head not among the LoRA targets trains whole beside the adapters.
      const wholeHead = head && !loraTargets.includes('head') ? head.outDim * C : 0;
      const loraCount = loraRank === undefined ? undefined : loraParameterCount(loraSites(info.config, loraTargets, head), loraRank) + wholeHead;
      const choiceOf = (trainableFlag as TrainableChoice | undefined) ?? trainedAs;
      let headCount: number | undefined;
      if (nClasses !== undefined && choiceOf !== undefined) {
        const sizes = new Map<string, number>();
        for (const [name, shape] of parameterShapes({ ...info.config, tiedHead: true })) sizes.set(name, shape.reduce((a, b) => a * b, 1));
        sizes.set('score.weight', nClasses * C);
        headCount = countTrainable(sizes, info.config.nLayers, choiceOf);
      }
      trainable = {
        trainableParameters: loraCount ?? headCount ?? loraTrained ?? info.parameters,
        ...(nClasses !== undefined ? { classes: nClasses } : {}),
        ...(classLabels ? { labels: classLabels } : {}),
        ...(choiceOf !== undefined ? { trainable: choiceOf } : loraTrained !== undefined && loraCount === undefined ? { trainable: 'lora' } : {}),
        ...(loraRank !== undefined ? { lora: { rank: loraRank, alpha: loraAlpha, targets: loraTargets } } : {}),
      };
    }
    if (json || bool(values, 'json')) {
      const presets = info ? undefined : PRESET_NAMES.map((name) => ({ name, parameters: modelInfo(PRESETS[name]).parameters }));
      printJson(io, { ...(info ?? {}), ...trainable, ...(presets ? { presets } : {}), engine });
      return;
    }
    if (info) {
      for (const l of infoLines(title, info)) println(io.stdout, l);
      if (trainable.trainable !== undefined) {
        println(io.stdout, `trained (${String(trainable.trainable)}): ${thousands(trainable.trainableParameters as number)} of ${thousands(info.parameters)} parameters`);
      }
      if (loraRank !== undefined) {
        const n = trainable.trainableParameters as number;
        const headNote = trainable.classes !== undefined && !loraTargets.includes('head') ? ' and the head trained whole' : '';
        println(io.stdout, `LoRA rank ${loraRank}, alpha ${loraAlpha} on ${loraTargets.join(', ')}: ${thousands(n)} trainable (${((100 * n) / info.parameters).toFixed(2)}% of ${thousands(info.parameters)}), the base frozen${headNote}`);
      }
    }
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
