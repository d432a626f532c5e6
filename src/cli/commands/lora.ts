// `llm-lab lora merge|export|import`: a LoRA adapter folder merged into a plain model, written in Hugging Face
// PEFT's layout, or made from a PEFT adapter and the base it belongs to.
import { promises as fsp } from 'node:fs';
import * as path from 'node:path';
import { choice, required, str } from '../args';
import type { Command } from '../command';
import { saveModel } from '../../core/checkpoint';
import { classifierInfoOf, exportClassifierPeft, importClassifierPeft, isPeftClassifier, loadClassifierBody, mergeClassifierAdapter } from '../../core/classify';
import { LlmLabError } from '../../core/errors';
import { PROMPT_STYLES } from '../../core/instruct';
import { describeAdapters, exportPeft, findAdapterFolder, fingerprintModel, importPeft, loadAdapted, mergedModelMeta, mergedModelTokenizer, mergeLora, readAdapterMeta, readAdapters, saveAdapter } from '../../core/lora';
import type { CliIo } from '../io';
import { printJson, println } from '../io';
import { thousands } from '../format';
import { openModel } from './modelFolder';
import { BACKEND_OPTION, startEngine } from './shared';

const ACTIONS = ['merge', 'export', 'import'] as const;

/** Refuses an output folder that already holds something: LLM Lab never overwrites a user's files. */
async function freshOut(io: { cwd: string }, dir: string): Promise<string> {
  const abs = path.resolve(io.cwd, dir);
  try {
    const names = await fsp.readdir(abs);
    if (names.length > 0) throw new LlmLabError('bad-argument', `--out ${abs} already holds files; give a new or empty folder.`);
  } catch (e) {
    if (e instanceof LlmLabError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOTDIR') throw new LlmLabError('bad-argument', `--out ${abs} is a file; give a folder.`);
  }
  return abs;
}

/** Merges a LoRA classifier into a plain Hugging Face classifier folder (GPT2ForSequenceClassification). */
async function mergeClassifierInto(io: CliIo, json: boolean, dir: string, out: string, baseDir?: string): Promise<void> {
  const r = await mergeClassifierAdapter(dir, out, baseDir);
  if (json) printJson(io, { out, adapter: r.adapterDir, base: r.base, sites: r.sites, labels: r.labels });
  else println(io.stdout, `merged ${r.sites} adapted layers and the head of classifier ${r.adapterDir} into ${r.base}'s weights: ${out}`);
}

export const loraCommand: Command = {
  name: 'lora',
  summary: 'Merge a LoRA adapter into its base, or move adapters to and from Hugging Face PEFT.',
  usage: 'lora merge|export|import [--model ADAPTER_DIR] [--peft DIR --base DIR] --out DIR',
  description:
    'merge writes a plain model (config.json + model.safetensors) whose outputs equal the base with the adapter. ' +
    'export writes adapter_config.json + adapter_model.safetensors for peft (q, k and v leave as one c_attn adapter of ' +
    'rank 3R with block-diagonal B, which imports back exactly). import makes an LLM Lab adapter folder from a PEFT one ' +
    'and the base model it was trained on.',
  options: {
    model: { type: 'string', value: 'DIR', help: 'The LoRA adapter folder (merge, export).' },
    peft: { type: 'string', value: 'DIR', help: 'A PEFT adapter folder (import).' },
    base: { type: 'string', value: 'DIR', help: 'The base model (import; merge when the adapter’s recorded base moved).' },
    'prompt-style': { type: 'string', value: 'S', help: `Prompt style to record on import: ${PROMPT_STYLES.join(', ')}.` },
    out: { type: 'string', value: 'DIR', help: 'A new folder for the result.' },
    ...BACKEND_OPTION,
  },
  positionals: true,
  examples: [
    'llm-lab lora merge --model runs/instruct-lora --out models/instruct-merged',
    'llm-lab lora export --model runs/instruct-lora --out peft-adapter',
    'llm-lab lora import --peft peft-adapter --base models/gpt2 --out runs/imported',
  ],
  async run({ values, positionals, io, json }) {
    const action = positionals[0];
    if (positionals.length !== 1 || !(ACTIONS as readonly string[]).includes(action)) {
      throw new LlmLabError('bad-argument', `'llm-lab lora' needs one action: ${ACTIONS.join(', ')}; see 'llm-lab lora --help'.`);
    }
    const out = await freshOut(io, required(values, `lora ${action}`, 'out', 'DIR (a new folder)'));
    await startEngine(values);
    if (action === 'merge') {
      const dir = path.resolve(io.cwd, required(values, 'lora merge', 'model', 'ADAPTER_DIR'));
      const base = str(values, 'base');
      const found = await findAdapterFolder(dir);
      if (found && classifierInfoOf(await readAdapterMeta(found))) {
        await mergeClassifierInto(io, json, dir, out, base === undefined ? undefined : path.resolve(io.cwd, base));
        return;
      }
      const a = await loadAdapted(dir, base === undefined ? undefined : path.resolve(io.cwd, base));
      try {
        const merged = mergeLora(a.model, a.adapters);
        try {
          await saveModel(out, merged, mergedModelMeta(a, dir), await mergedModelTokenizer(a));
        } finally {
          merged.dispose();
        }
        if (json) printJson(io, { out, adapter: dir, base: a.dir, sites: a.adapters.bySite.size });
        else println(io.stdout, `merged ${a.adapters.bySite.size} adapted layers of ${dir} into ${a.dir}'s weights: ${out}`);
      } finally {
        a.model.dispose();
      }
      return;
    }
    if (action === 'export') {
      const given = path.resolve(io.cwd, required(values, 'lora export', 'model', 'ADAPTER_DIR'));
      const dir = (await findAdapterFolder(given)) ?? given;
      const meta = await readAdapterMeta(dir);
      if (classifierInfoOf(meta)) {
        const r = await exportClassifierPeft(dir, meta, out);
        if (json) printJson(io, { out, sites: r.sites, parameters: r.parameters });
        else println(io.stdout, `wrote a PEFT sequence-classification adapter (${thousands(r.parameters)} values, ${r.sites} adapted layers, the head as modules_to_save): ${out}`);
        return;
      }
      const adapters = await readAdapters(dir, meta, meta.base.config);
      try {
        await exportPeft(adapters, meta.base.config, out, meta.base.model);
        if (json) printJson(io, { out, sites: adapters.bySite.size, parameters: adapters.parameterCount() });
        else println(io.stdout, `wrote a PEFT adapter (${thousands(adapters.parameterCount())} values, ${adapters.bySite.size} adapted layers): ${out}`);
      } finally {
        adapters.dispose();
      }
      return;
    }
    const peftDir = path.resolve(io.cwd, required(values, 'lora import', 'peft', 'DIR (a PEFT adapter folder)'));
    const baseDir = required(values, 'lora import', 'base', 'DIR (the base model it was trained on)');
    const promptStyle = choice(values, 'prompt-style', PROMPT_STYLES);
    if (await isPeftClassifier(peftDir)) {
      const body = await loadClassifierBody(path.resolve(io.cwd, baseDir));
      try {
        const r = await importClassifierPeft(peftDir, body.model, body.dir, out, { tokenizer: body.meta.tokenizer });
        if (json) printJson(io, { out, sites: r.sites, parameters: r.parameters, labels: r.labels });
        else println(io.stdout, `imported a classifier adapter (${r.sites} adapted layers, classes ${r.labels.join(', ')}) onto ${body.dir}: ${out}`);
      } finally {
        body.model.dispose();
      }
      return;
    }
    const base = await openModel(io, baseDir);
    try {
      const adapters = await importPeft(peftDir, base.config);
      try {
        const meta = describeAdapters(adapters, { model: base.dir, fingerprint: await fingerprintModel(base.model), config: base.config }, {
          tokenizer: base.tokenizer.name,
          ...(promptStyle ? { promptStyle } : {}),
          importedFrom: peftDir,
        });
        await saveAdapter(out, adapters, meta);
        if (json) printJson(io, { out, sites: adapters.bySite.size, parameters: adapters.parameterCount() });
        else println(io.stdout, `imported ${adapters.bySite.size} adapted layers onto ${base.dir}: ${out}`);
      } finally {
        adapters.dispose();
      }
    } finally {
      base.model.dispose();
    }
  },
};
