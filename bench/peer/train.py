#!/usr/bin/python3
"""PyTorch peer for bench/train.ts: the official FIGA recipe (RUCAIBox/FIGA train.py + its
modeling_llama.py loss), re-implemented in plain torch on the same safetensors weights and the
same token ids:

  - each pair becomes two rows, prompt + ŷ + EOS and prompt + y + EOS, both padded (with the EOS as
    pad, as the official code does) to the longest row of the micro-batch;
  - the collator's masks: python-Levenshtein editops(y labels, ŷ labels) → 1 at the targets of
    inserts/replaces in ŷ and at ŷ's EOS, −1 at the sources of deletes/replaces in y;
  - full-vocabulary logits at every position, CrossEntropyLoss(reduction='none'), the τ filter
    (a −1 token counts only while CE ≤ τ), weights α / −β, sum / number of weighted tokens;
  - HF Trainer's gradient accumulation (each micro-batch's loss / accumulation), AdamW.

usage: train.py '{"dir": ..., "data": file.json, "micro_batch": 4, "accumulation": 2, "steps": 3,
                  "warmup_steps": 1, "threads": 2, "alpha": 1, "beta": 0.5, "tau": 0.6, "lr": 1e-5}'
data: {"pairs": [{"prompt": [ids], "original": [ids], "revised": [ids]}, ...], "eos": id}
prints one JSON line: {"step_s": [...], "losses": [...], "torch": ..., "threads": ..., "blas": ...}

Plain torch (no transformers, no safetensors package, no numpy); run with Debian's /usr/bin/python3.
The caller picks the BLAS through LD_LIBRARY_PATH and OPENBLAS_CORETYPE.
"""
import json
import math
import os
import sys
import time

import torch
import torch.nn.functional as F

from safetensors_f32 import read_safetensors

try:
    import Levenshtein
except ImportError:  # python3-levenshtein
    Levenshtein = None


class Llama(torch.nn.Module):
    """LlamaForCausalLM (eager attention with a causal mask, RoPE rotate_half, SwiGLU, RMSNorm)."""

    def __init__(self, cfg, w):
        super().__init__()
        self.cfg = cfg
        self.D = cfg['hidden_size']
        self.H = cfg['num_attention_heads']
        self.Hkv = cfg.get('num_key_value_heads', self.H)
        self.d = cfg.get('head_dim', self.D // self.H)
        self.eps = cfg.get('rms_norm_eps', 1e-6)
        P = torch.nn.Parameter
        self.embed = P(w['model.embed_tokens.weight'])
        self.tied = cfg.get('tie_word_embeddings', True) or 'lm_head.weight' not in w
        if not self.tied:
            self.lm_head = P(w['lm_head.weight'])
        self.layers = torch.nn.ModuleList()
        for i in range(cfg['num_hidden_layers']):
            L = torch.nn.Module()
            g = lambda k: P(w[f'model.layers.{i}.{k}'])
            L.ln1 = g('input_layernorm.weight')
            L.q, L.k, L.v, L.o = g('self_attn.q_proj.weight'), g('self_attn.k_proj.weight'), g('self_attn.v_proj.weight'), g('self_attn.o_proj.weight')
            L.ln2 = g('post_attention_layernorm.weight')
            L.gate, L.up, L.down = g('mlp.gate_proj.weight'), g('mlp.up_proj.weight'), g('mlp.down_proj.weight')
            self.layers.append(L)
        self.norm = P(w['model.norm.weight'])
        theta = cfg.get('rope_theta', 10000.0)
        self.inv_freq = 1.0 / (theta ** (torch.arange(0, self.d, 2, dtype=torch.float32) / self.d))

    def rms(self, x, w):
        return w * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))

    def forward(self, ids):
        B, T = ids.shape
        x = F.embedding(ids, self.embed)
        pos = torch.arange(T, dtype=torch.float32)
        freqs = torch.outer(pos, self.inv_freq)
        emb = torch.cat([freqs, freqs], -1)
        cos, sin = emb.cos()[None, None], emb.sin()[None, None]

        def rope(t):
            h = t.shape[-1] // 2
            return t * cos + torch.cat([-t[..., h:], t[..., :h]], -1) * sin

        mask = torch.full((T, T), float('-inf')).triu(1)
        rep = self.H // self.Hkv
        for L in self.layers:
            h = self.rms(x, L.ln1)
            q = (h @ L.q.t()).view(B, T, self.H, self.d).transpose(1, 2)
            k = (h @ L.k.t()).view(B, T, self.Hkv, self.d).transpose(1, 2)
            v = (h @ L.v.t()).view(B, T, self.Hkv, self.d).transpose(1, 2)
            q, k = rope(q), rope(k)
            if rep > 1:
                k = k.repeat_interleave(rep, 1)
                v = v.repeat_interleave(rep, 1)
            att = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(self.d) + mask, -1)
            o = (att @ v).transpose(1, 2).reshape(B, T, self.H * self.d)
            x = x + o @ L.o.t()
            n = self.rms(x, L.ln2)
            x = x + (F.silu(n @ L.gate.t()) * (n @ L.up.t())) @ L.down.t()
        x = self.rms(x, self.norm)
        return x @ (self.embed if self.tied else self.lm_head).t()


def editops(src, dst):
    if Levenshtein is None:
        raise SystemExit('python3-levenshtein is missing (apt-get install -y python3-levenshtein)')
    # python-Levenshtein 0.12 takes strings: one character per id (IGNORE_INDEX −100 included)
    enc = lambda xs: ''.join(chr(int(x) + 300) for x in xs)
    return Levenshtein.editops(enc(src), enc(dst))


def collate(pairs, eos):
    """The official DataCollatorForSupervisedDataset: rows interleaved ŷ, y; masks 1 / −1."""
    rows, labels = [], []
    for p in pairs:
        for resp in (p['revised'], p['original']):
            ids = p['prompt'] + resp + [eos]
            rows.append(ids)
            labels.append([-100] * len(p['prompt']) + resp + [eos])
    T = max(len(r) for r in rows)
    ids = torch.full((len(rows), T), eos, dtype=torch.long)
    lab = torch.full((len(rows), T), -100, dtype=torch.long)
    mask = torch.zeros(len(rows), T)
    for i, (r, l) in enumerate(zip(rows, labels)):
        ids[i, :len(r)] = torch.tensor(r)
        lab[i, :len(l)] = torch.tensor(l)
    for b in range(0, len(rows), 2):
        good, bad = labels[b], labels[b + 1]
        for op, s, d in editops(bad, good):
            if op != 'delete':
                mask[b, d] = 1
            if op != 'insert':
                mask[b + 1, s] = -1
        for j, x in enumerate(good):
            if x == eos:
                mask[b, j] = 1
                break
        for j, x in enumerate(bad):
            if x == eos:
                mask[b + 1, j] = 1
                break
    return ids, lab, mask


def figa_loss(logits, labels, mask, alpha, beta, tau):
    shift_logits = logits[..., :-1, :].contiguous().transpose(1, 2)
    shift_labels = labels[..., 1:].contiguous()
    m = mask[..., 1:]
    ce = F.cross_entropy(shift_logits, shift_labels, reduction='none')
    with torch.no_grad():
        drop = (m == -1) & (ce > tau)
        m = torch.where(drop, torch.zeros_like(m), m)
        tem = torch.zeros_like(m)
        tem[0::2] = torch.where(m[0::2] == 1, alpha, 0.0)
        tem[1::2] = torch.where(m[1::2] == -1, -beta, 0.0)
        count = ((tem != 0) & (shift_labels != -100)).sum().item()
    return (ce * tem).sum() / max(1, count)


def main():
    a = json.loads(sys.argv[1])
    torch.manual_seed(0)
    torch.set_num_threads(int(a.get('threads', 2)))
    cfg = json.load(open(os.path.join(a['dir'], 'config.json')))
    model = Llama(cfg, read_safetensors(os.path.join(a['dir'], 'model.safetensors')))
    data = json.load(open(a['data']))
    pairs, eos = data['pairs'], data['eos']
    mb, acc = a['micro_batch'], a['accumulation']
    opt = torch.optim.AdamW(model.parameters(), lr=a.get('lr', 1e-5), weight_decay=0.0)
    times, losses = [], []
    cursor = 0
    for step in range(a['warmup_steps'] + a['steps']):
        t0 = time.perf_counter()
        total = 0.0
        for _ in range(acc):
            batch = pairs[cursor:cursor + mb]
            cursor += mb
            ids, lab, mask = collate(batch, eos)
            loss = figa_loss(model(ids), lab, mask, a.get('alpha', 1.0), a.get('beta', 0.5), a.get('tau', 0.6)) / acc
            loss.backward()
            total += loss.item()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        opt.zero_grad(set_to_none=True)
        dt = time.perf_counter() - t0
        if step >= a['warmup_steps']:
            times.append(dt)
            losses.append(total)
    blas = 'unknown'
    try:
        for line in open('/proc/self/maps'):
            if 'blas' in line.lower():
                blas = line.split()[-1]
                break
    except OSError:
        pass
    print(json.dumps({'step_s': times, 'losses': losses, 'torch': torch.__version__, 'threads': torch.get_num_threads(), 'blas': blas,
                      'coretype': os.environ.get('OPENBLAS_CORETYPE', '')}))


if __name__ == '__main__':
    main()
