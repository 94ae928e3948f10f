#!/usr/bin/python3
"""PyTorch peer for bench/generate.ts: the same safetensors weights, the same prompt, greedy
decoding with a KV cache. Plain torch (no transformers, no safetensors package, no numpy).

usage: generate.py '{"dir": ..., "prompt": [ids], "new_tokens": 64, "runs": 5, "threads": 2, "matmul": "linear"}'
prints one JSON line: {"prefill_tps": [...], "decode_tps": [...], "tokens": [...], "torch": ..., "threads": ..., "blas": ...}

matmul: "linear" multiplies with F.linear everywhere, as Hugging Face modules do; "gemv" uses
torch.mv for single-row products (decoding), which avoids the slow M=1 sgemm path of some BLAS
builds. Matrices are held in nn.Linear layout [out, in] (GPT-2's Conv1D weights are transposed at
load time), like the TF.js engine pre-transposes its weights.

Run it with Debian's /usr/bin/python3 (python3-torch). The caller picks the BLAS through
LD_LIBRARY_PATH (openblas-openmp / openblas-pthread) and OPENBLAS_CORETYPE.
"""
import json
import math
import os
import sys
import time

import ctypes

import torch
import torch.nn.functional as F

from safetensors_f32 import read_safetensors

GEMV = False


def lin(x, w, b=None):
    """x [T, in] @ w[out, in]^T (+ b)"""
    if GEMV and x.shape[0] == 1:
        y = torch.mv(w, x[0])
        if b is not None:
            y = y + b
        return y.unsqueeze(0)
    return F.linear(x, w, b)


def blas_core():
    for lib in ('libopenblas.so.0', 'libopenblasp-r0.3.21.so'):
        try:
            h = ctypes.CDLL(lib)
            h.openblas_get_corename.restype = ctypes.c_char_p
            return 'OpenBLAS ' + h.openblas_get_corename().decode()
        except OSError:
            continue
    return 'reference BLAS'


def load(dir_):
    cfg = json.load(open(os.path.join(dir_, 'config.json')))
    idx = os.path.join(dir_, 'model.safetensors.index.json')
    w = {}
    if os.path.exists(idx):
        for shard in sorted(set(json.load(open(idx))['weight_map'].values())):
            w.update(read_safetensors(os.path.join(dir_, shard)))
    else:
        w = read_safetensors(os.path.join(dir_, 'model.safetensors'))
    return cfg, w


class GPT2:
    def __init__(self, cfg, w):
        g = lambda k: w.get('transformer.' + k, w.get(k))
        self.cfg = cfg
        self.D = cfg['n_embd']
        self.H = cfg['n_head']
        self.d = self.D // self.H
        self.eps = cfg.get('layer_norm_epsilon', 1e-5)
        self.wte, self.wpe = g('wte.weight'), g('wpe.weight')
        self.head = w.get('lm_head.weight', self.wte)
        self.layers = []
        for i in range(cfg['n_layer']):
            p = lambda k: g(f'h.{i}.{k}')
            L = {k: p(k) for k in [
                'ln_1.weight', 'ln_1.bias', 'attn.c_attn.weight', 'attn.c_attn.bias', 'attn.c_proj.weight', 'attn.c_proj.bias',
                'ln_2.weight', 'ln_2.bias', 'mlp.c_fc.weight', 'mlp.c_fc.bias', 'mlp.c_proj.weight', 'mlp.c_proj.bias']}
            for k in ('attn.c_attn.weight', 'attn.c_proj.weight', 'mlp.c_fc.weight', 'mlp.c_proj.weight'):
                L[k] = L[k].t().contiguous()  # Conv1D [in, out] -> [out, in]
            self.layers.append(L)
        self.lnf = (g('ln_f.weight'), g('ln_f.bias'))

    def forward(self, ids, cache, past):
        T = ids.shape[0]
        x = self.wte[ids] + self.wpe[past:past + T]
        for i, L in enumerate(self.layers):
            h = F.layer_norm(x, (self.D,), L['ln_1.weight'], L['ln_1.bias'], self.eps)
            qkv = lin(h, L['attn.c_attn.weight'], L['attn.c_attn.bias'])
            q, k, v = qkv.split(self.D, dim=1)
            q = q.view(T, self.H, self.d).transpose(0, 1)
            k = k.view(T, self.H, self.d).transpose(0, 1)
            v = v.view(T, self.H, self.d).transpose(0, 1)
            if cache[i] is not None:
                k = torch.cat([cache[i][0], k], 1)
                v = torch.cat([cache[i][1], v], 1)
            cache[i] = (k, v)
            a = attend(q, k, v, self.d, past)
            x = x + lin(a.transpose(0, 1).reshape(T, self.D), L['attn.c_proj.weight'], L['attn.c_proj.bias'])
            h = F.layer_norm(x, (self.D,), L['ln_2.weight'], L['ln_2.bias'], self.eps)
            h = F.gelu(lin(h, L['mlp.c_fc.weight'], L['mlp.c_fc.bias']), approximate='tanh')
            x = x + lin(h, L['mlp.c_proj.weight'], L['mlp.c_proj.bias'])
        x = F.layer_norm(x[-1:], (self.D,), self.lnf[0], self.lnf[1], self.eps)
        return lin(x, self.head)[0]


class Llama:
    def __init__(self, cfg, w):
        self.D = cfg['hidden_size']
        self.H = cfg['num_attention_heads']
        self.Hkv = cfg.get('num_key_value_heads', self.H)
        self.d = cfg.get('head_dim') or self.D // self.H
        self.eps = cfg.get('rms_norm_eps', 1e-6)
        theta = cfg.get('rope_theta', 10000.0)
        self.inv = 1.0 / (theta ** (torch.arange(0, self.d, 2, dtype=torch.int64).float() / self.d))
        self.emb = w['model.embed_tokens.weight']
        self.head = w.get('lm_head.weight', self.emb)
        self.layers = []
        for i in range(cfg['num_hidden_layers']):
            p = f'model.layers.{i}.'
            self.layers.append({k: w.get(p + k) for k in [
                'input_layernorm.weight', 'self_attn.q_proj.weight', 'self_attn.k_proj.weight', 'self_attn.v_proj.weight',
                'self_attn.q_proj.bias', 'self_attn.k_proj.bias', 'self_attn.v_proj.bias', 'self_attn.o_proj.weight',
                'post_attention_layernorm.weight', 'mlp.gate_proj.weight', 'mlp.up_proj.weight', 'mlp.down_proj.weight']})
        self.norm = w['model.norm.weight']

    def rms(self, x, wt):
        return wt * (x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps))

    def forward(self, ids, cache, past):
        T = ids.shape[0]
        pos = torch.arange(past, past + T, dtype=torch.float32)
        freqs = torch.outer(pos, self.inv)
        emb = torch.cat([freqs, freqs], -1)
        cos, sin = emb.cos()[None], emb.sin()[None]
        x = self.emb[ids]
        rep = self.H // self.Hkv
        for i, L in enumerate(self.layers):
            h = self.rms(x, L['input_layernorm.weight'])
            q = lin(h, L['self_attn.q_proj.weight'], L['self_attn.q_proj.bias']).view(T, self.H, self.d).transpose(0, 1)
            k = lin(h, L['self_attn.k_proj.weight'], L['self_attn.k_proj.bias']).view(T, self.Hkv, self.d).transpose(0, 1)
            v = lin(h, L['self_attn.v_proj.weight'], L['self_attn.v_proj.bias']).view(T, self.Hkv, self.d).transpose(0, 1)
            q = q * cos + rotate_half(q) * sin
            k = k * cos + rotate_half(k) * sin
            if cache[i] is not None:
                k = torch.cat([cache[i][0], k], 1)
                v = torch.cat([cache[i][1], v], 1)
            cache[i] = (k, v)
            if rep > 1:
                k = k.repeat_interleave(rep, 0)
                v = v.repeat_interleave(rep, 0)
            a = attend(q, k, v, self.d, past)
            x = x + lin(a.transpose(0, 1).reshape(T, self.H * self.d), L['self_attn.o_proj.weight'])
            h = self.rms(x, L['post_attention_layernorm.weight'])
            x = x + lin(F.silu(lin(h, L['mlp.gate_proj.weight'])) * lin(h, L['mlp.up_proj.weight']), L['mlp.down_proj.weight'])
        x = self.rms(x[-1:], self.norm)
        return lin(x, self.head)[0]


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat([-x[..., h:], x[..., :h]], -1)


def attend(q, k, v, d, past):
    T, S = q.shape[1], k.shape[1]
    s = torch.matmul(q, k.transpose(1, 2)) / math.sqrt(d)
    if T > 1:
        mask = torch.full((T, S), float('-inf')).triu(past + 1)
        s = s + mask
    return torch.matmul(torch.softmax(s, -1), v)


def main():
    global GEMV
    args = json.loads(sys.argv[1])
    GEMV = args.get('matmul', 'linear') == 'gemv'
    torch.set_num_threads(args.get('threads', 1))
    cfg, w = load(args['dir'])
    model = GPT2(cfg, w) if cfg['model_type'] == 'gpt2' else Llama(cfg, w)
    n_layers = cfg.get('n_layer') or cfg['num_hidden_layers']
    prompt = torch.tensor(args['prompt'], dtype=torch.long)
    new = args['new_tokens']
    pre, dec, toks = [], [], []
    with torch.inference_mode():
        for run in range(args['runs'] + 1):  # first run is a warm-up
            cache = [None] * n_layers
            t0 = time.perf_counter()
            logits = model.forward(prompt, cache, 0)
            tok = int(torch.argmax(logits))
            t1 = time.perf_counter()
            out = [tok]
            past = len(prompt)
            for _ in range(new - 1):
                logits = model.forward(torch.tensor([tok]), cache, past)
                past += 1
                tok = int(torch.argmax(logits))
                out.append(tok)
            t2 = time.perf_counter()
            if run > 0:
                pre.append(len(prompt) / (t1 - t0))
                dec.append((new - 1) / (t2 - t1))
            toks = out
    print(json.dumps({'prefill_tps': pre, 'decode_tps': dec, 'tokens': toks, 'torch': torch.__version__, 'threads': torch.get_num_threads(), 'blas': blas_core()}))


if __name__ == '__main__':
    main()
