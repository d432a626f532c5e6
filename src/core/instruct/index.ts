// Instruction fine-tuning (the book's chapter 7): prompt styles, instruction data and its batches.
export { DEFAULT_PROMPT_STYLE, PROMPT_STYLES, formatExample, formatPrompt, formatQuery, isPromptStyle, promptStyleOf } from './prompt';
export type { InstructionRecord, PromptStyle } from './prompt';
export { INSTRUCT_SPLIT, parseInstructionData, splitInstructions, toRecord } from './records';
export type { InstructionSplit } from './records';
export { IGNORE_INDEX, collateInstructions, encodeExample } from './collate';
export type { CollateOptions, EncodedExample } from './collate';
export { DEFAULT_RESPONSE_TOKENS, ask, respond } from './ask';
export type { AskOptions } from './ask';
export { evaluateInstructions } from './evaluate';
export type { InstructEvalOptions, InstructEvalResult } from './evaluate';
