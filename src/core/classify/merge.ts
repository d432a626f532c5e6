// A LoRA classifier merged into a plain classifier folder in Hugging Face's GPT2ForSequenceClassification layout:
// each adapted body matrix and the head get their adapters' corrections, so the folder's logits equal base +
// adapters + head, and it runs anywhere a classifier folder does (transformers included).
import * as path from 'node:path';
import { writeDirAtomic } from '../checkpoint/atomic';
import { inheritedFim, modelTokenizer } from '../checkpoint/modelTokenizer';
import { TRAINED_TOKENIZER } from '../tokenizer/bpeModel';
import { loadBpeModel, writeTokenizerFiles } from '../tokenizer/files';
import { writeClassifierFiles } from './files';
import { loadAdaptedClassifier, mergeClassifier } from './lora';

/**
 * Merges the LoRA classifier of `dir` (an adapter folder or LoRA run) into a new plain Hugging Face classifier
 * folder `outDir` (built beside it, renamed into place), with the base's trained tokenizer when it has one.
 */
export async function mergeClassifierAdapter(dir: string, outDir: string, baseDir?: string): Promise<{ adapterDir: string; base: string; sites: number; labels: string[] }> {
  const a = await loadAdaptedClassifier(dir, baseDir);
  try {
    const merged = await mergeClassifier(a.classifier, a.adapters);
    try {
      const padId = modelTokenizer(a).eotId;
      const meta = { trainable: 'lora' as const, trainableParameters: a.info.trainableParameters, maxLength: a.info.maxLength };
      const bpe = a.adapterMeta.tokenizer === TRAINED_TOKENIZER ? await loadBpeModel(a.dir) : undefined;
      await writeDirAtomic(path.resolve(outDir), async (tmp) => {
        await writeClassifierFiles(tmp, merged, padId, meta, { tokenizer: a.adapterMeta.tokenizer, ...inheritedFim(a.meta), mergedFrom: { adapter: a.adapterDir, base: a.dir } });
        if (bpe) await writeTokenizerFiles(tmp, bpe); // the merged folder stands alone
      });
    } finally {
      merged.dispose();
    }
    return { adapterDir: a.adapterDir, base: a.dir, sites: a.adapters.bySite.size, labels: [...a.labels] };
  } finally {
    a.classifier.dispose();
  }
}

