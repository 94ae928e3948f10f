"""The peers' safetensors reader (F32 only): Debian's python3-torch has no safetensors package."""
import json
import struct

import torch


def read_safetensors(path):
    out = {}
    with open(path, 'rb') as f:
        n = struct.unpack('<Q', f.read(8))[0]
        header = json.loads(f.read(n))
        base = 8 + n
        for name, t in header.items():
            if name == '__metadata__':
                continue
            if t['dtype'] != 'F32':
                raise SystemExit(f'{name}: only F32 is supported by the peer')
            b, e = t['data_offsets']
            f.seek(base + b)
            buf = bytearray(f.read(e - b))
            out[name] = torch.frombuffer(buf, dtype=torch.float32).reshape(t['shape']).clone()
    return out
