#!/usr/bin/python3
"""The PyTorch side of LLM Lab's GPT-2 benchmarks, measured the way bench/benchModel.ts measures LLM Lab.

GPT-2 124M (12 layers, width 768, 12 heads, vocabulary 50,257), tied output head, dropout 0.
  create   seconds to build the model with N(0, 0.02) weights
  train    tokens/s of full AdamW steps on random tokens, batch 2 × context 256 (the book's chapter 5
           shape); 'lastblock' trains only the last transformer block
  generate greedy decoding with a KV cache: first token after a 32-token prompt, then tokens/s
Prints one JSON line with the process's peak RSS and the load average. PyTorch is not a dependency of
LLM Lab: install Debian's python3-torch to run this (python3 bench/reference/gpt2Torch.py train).
"""
import json
import math
import os
import resource
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

V, C, L, H = 50257, 768, 12, 12


class Block(nn.Module):
    def __init__(self, ctx):
        super().__init__()
        self.ln_1, self.ln_2 = nn.LayerNorm(C), nn.LayerNorm(C)
        self.c_attn, self.c_proj = nn.Linear(C, 3 * C), nn.Linear(C, C)
        self.c_fc, self.mlp_proj = nn.Linear(C, 4 * C), nn.Linear(4 * C, C)

    def forward(self, x, cache=None):
        B, T, _ = x.shape
        q, k, v = self.c_attn(self.ln_1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, H, C // H).transpose(1, 2) for t in (q, k, v))  # (B, H, T, D)
        if cache is not None:
            if 'k' in cache:
                k, v = torch.cat([cache['k'], k], 2), torch.cat([cache['v'], v], 2)
            cache['k'], cache['v'] = k, v
        tk = k.shape[2]
        att = (q @ k.transpose(-2, -1)) / math.sqrt(C // H)  # (B, H, T, Tk)
        mask = torch.ones(T, tk, dtype=torch.bool).tril(tk - T)
        att = att.masked_fill(~mask, float('-inf')).softmax(-1)
        y = (att @ v).transpose(1, 2).reshape(B, T, C)
        x = x + self.c_proj(y)
        return x + self.mlp_proj(F.gelu(self.c_fc(self.ln_2(x)), approximate='tanh'))


class Gpt(nn.Module):
    def __init__(self, ctx):
        super().__init__()
        self.wte, self.wpe = nn.Embedding(V, C), nn.Embedding(ctx, C)
        self.h = nn.ModuleList(Block(ctx) for _ in range(L))
        self.ln_f = nn.LayerNorm(C)
        for name, p in self.named_parameters():
            if name.endswith('bias'):
                nn.init.zeros_(p)
            elif p.dim() >= 2:
                std = 0.02 / math.sqrt(2 * L) if name.endswith(('c_proj.weight', 'mlp_proj.weight')) else 0.02
                nn.init.normal_(p, 0.0, std)

    def forward(self, ids, caches=None, start=0):
        T = ids.shape[1]
        x = self.wte(ids) + self.wpe(torch.arange(start, start + T))
        for i, block in enumerate(self.h):
            x = block(x, caches[i] if caches is not None else None)
        return self.ln_f(x) @ self.wte.weight.t()  # tied head


def train(steps, last_block):
    ctx, B = 256, 2
    t0 = time.perf_counter()
    model = Gpt(ctx)
    create_s = time.perf_counter() - t0
    params = list(model.h[-1].parameters()) if last_block else list(model.parameters())
    if last_block:
        for p in model.parameters():
            p.requires_grad_(False)
        for p in params:
            p.requires_grad_(True)
    opt = torch.optim.AdamW(params, lr=3e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.1)
    g = torch.Generator().manual_seed(0)

    def step():
        ids = torch.randint(0, V, (B, ctx + 1), generator=g)
        logits = model(ids[:, :-1])
        loss = F.cross_entropy(logits.reshape(-1, V), ids[:, 1:].reshape(-1))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        return loss.item()

    step()  # warm-up
    t0, c0 = time.perf_counter(), time.process_time()
    for _ in range(steps):
        loss = step()
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    return {'tokens_per_s': B * ctx * steps / wall, 'cpu_s_per_step': cpu / steps, 'loss': loss, 'create_ms': create_s * 1000}


@torch.no_grad()
def generate(prompt_tokens=32, new_tokens=16):
    model = Gpt(1024).eval()
    prompt = torch.randint(0, V, (1, prompt_tokens), generator=torch.Generator().manual_seed(7))

    def run():
        caches = [{} for _ in range(L)]
        t0 = time.perf_counter()
        nxt = model(prompt, caches)[0, -1].argmax()
        first = time.perf_counter() - t0
        t1 = time.perf_counter()
        pos = prompt_tokens
        for _ in range(new_tokens - 1):
            nxt = model(nxt.view(1, 1), caches, pos)[0, -1].argmax()
            pos += 1
        return first, (new_tokens - 1) / (time.perf_counter() - t1)

    run()  # warm-up
    first, rate = run()
    return {'first_token_ms': first * 1000, 'tokens_per_s': rate}


def main():
    torch.set_num_threads(int(os.environ.get('THREADS', '2')))
    torch.manual_seed(0)
    job = sys.argv[1] if len(sys.argv) > 1 else 'train'
    steps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    if job == 'train':
        result = train(steps, False)
    elif job == 'lastblock':
        result = train(steps, True)
    elif job == 'generate':
        result = generate()
    else:
        raise SystemExit(f'unknown job {job}: train, lastblock or generate')
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({'job': job, 'torch': torch.__version__, 'threads': torch.get_num_threads(), **result,
                      'peak_rss_mb': round(peak), 'load': os.getloadavg()[0]}))


if __name__ == '__main__':
    main()
