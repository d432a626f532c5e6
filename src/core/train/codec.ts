// The tokenizer as training uses it: text to ids for the corpus and the sample prompt, ids to text for samples.
// TEMPORARY: returns undefined until the tokenizer of branch tokdata lands.
export interface TextCodec {
  readonly vocabSize: number;
  encode(text: string): number[];
  decode(ids: readonly number[]): string;
}

export function loadCodec(_name: string): TextCodec | undefined {
  return undefined;
}
