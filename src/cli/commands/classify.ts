// `llm-lab classify`: a classifier's class and every class's probability for texts, or its accuracy, loss and
// confusion matrix on a labelled file with each row's prediction in the file's order.
import { list, int, required, str, choice } from '../args';
import type { Command } from '../command';
import type { LoadedClassifier, Prediction } from '../../core/classify';
import { classify, DATA_FORMATS, evaluateClassifier, loadClassifier, readClassificationFile } from '../../core/classify';
import { LlmLabError } from '../../core/errors';
import { printJson, println } from '../io';
import { BACKEND_OPTION, maxFileBytes, maxFileOption, startEngine } from './shared';
import { confusionLines } from './trainView';
import * as path from 'node:path';
import type { CliIo } from '../io';

const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;

function predictionLine(p: Prediction): string {
  const probs = Object.entries(p.probabilities).map(([l, v]) => `${l} ${pct(v)}`).join(', ');
  return `${p.label}  (${probs})`;
}

async function openClassifier(io: CliIo, dir: string): Promise<LoadedClassifier> {
  return loadClassifier(path.resolve(io.cwd, dir));
}

export const classifyCommand: Command = {
  name: 'classify',
  summary: 'Classify texts with a fine-tuned classifier, or measure it on a labelled file.',
  usage: 'classify --model DIR (--text TEXT... | --data FILE) [--json]',
  description:
    '--text prints the class and every class probability (--json: {"predictions": [{label, probabilities}]}). --data reads a labelled ' +
    'TSV, CSV, JSONL or JSON-array file (as finetune classify does) and prints the accuracy, loss and confusion matrix (--json: ' +
    '{"accuracy", "loss", "confusion", "predictions"}, predictions in the file\'s row order). --model takes a run folder, a checkpoint ' +
    'or any Hugging Face GPT2ForSequenceClassification folder.',
  options: {
    model: { type: 'string', value: 'DIR', help: 'The classifier: a finetune classify run folder or a classifier folder.' },
    text: { type: 'string', multiple: true, value: 'TEXT', help: 'A text to classify.' },
    data: { type: 'string', value: 'FILE', help: 'A labelled file to measure the classifier on.' },
    'text-field': { type: 'string', value: 'T', help: "Text column or JSON key (default 'text')." },
    'label-field': { type: 'string', value: 'L', help: "Label column or JSON key (default 'label')." },
    format: { type: 'string', value: 'F', help: `Data format: ${DATA_FORMATS.join(', ')} (default from the extension).` },
    batch: { type: 'string', value: 'N', help: 'Texts per forward pass (default 8).' },
    ...maxFileOption(),
    ...BACKEND_OPTION,
  },
  examples: [
    "llm-lab classify --model runs/spam --text 'You are a winner! Claim your prize now.'",
    'llm-lab classify --model runs/spam --data samples/SMSSpamCollection.tsv --json',
  ],
  async run({ values, io, json }) {
    const modelDir = required(values, 'classify', 'model', 'DIR (a classifier)');
    const texts = list(values, 'text');
    const dataFile = str(values, 'data');
    if ((texts.length > 0) === (dataFile !== undefined)) {
      throw new LlmLabError('bad-argument', "'llm-lab classify' needs --text TEXT or --data FILE (one of them); see 'llm-lab classify --help'.");
    }
    const batchSize = int(values, 'batch', 1) ?? 8;
    const format = choice(values, 'format', DATA_FORMATS);
    await startEngine(values);
    const loaded = await openClassifier(io, modelDir);
    try {
      if (texts.length > 0) {
        const preds = await classify(loaded, texts, { batchSize, signal: io.signal });
        if (json) printJson(io, { predictions: preds.map((p) => ({ label: p.label, probabilities: p.probabilities })) });
        else for (const p of preds) println(io.stdout, predictionLine(p));
        return;
      }
      const file = path.resolve(io.cwd, dataFile!);
      const read = await readClassificationFile(file, {
        ...(format ? { format } : {}),
        ...(str(values, 'text-field') !== undefined ? { textField: str(values, 'text-field') } : {}),
        ...(str(values, 'label-field') !== undefined ? { labelField: str(values, 'label-field') } : {}),
        minClasses: 1,
        maxFileBytes: maxFileBytes(values),
      });
      const r = await evaluateClassifier(loaded, file, read.rows, { batchSize, signal: io.signal });
      if (json) {
        printJson(io, {
          accuracy: r.accuracy, loss: r.loss, confusion: r.confusion,
          predictions: r.predictions.map((p) => ({ label: p.label, probabilities: p.probabilities })),
        });
        return;
      }
      println(io.stdout, `${read.rows.length} examples of ${file}: accuracy ${pct(r.accuracy)}, loss ${r.loss.toFixed(4)}`);
      for (const l of confusionLines(r.confusion)) println(io.stdout, l);
    } finally {
      loaded.classifier.dispose();
    }
  },
};
