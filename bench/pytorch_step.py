"""PyTorch twin of the SimCLR step in bench/engine.ts (same CNN, head, loss, optimizer, batch).

Small CNN (src/ml/models/small-cnn.ts): six 3x3 convs 32-32-64-64-128-128 without bias, each
BatchNorm (eps 1e-5, momentum 0.1 = Keras 0.9) + ReLU, stride 2 at convs 3 and 5 ('same'
padding: TF pads bottom/right for stride 2 on even sizes, PyTorch pads 1 on each side; the
FLOPs are the same), global average pool, head Linear(128,128)-ReLU-Linear(128,128).
NT-Xent tau=0.5 over 2B anchors, Adam(1e-3). Views: seeded uniform noise made before timing.
Prints one JSON line: samples/s (pairs/s), ms/step, torch version, parameter count.
Usage: python3 bench/pytorch_step.py [--batch 256] [--steps 3] [--seed 1] [--threads 2] [--channels-last]
"""
import argparse
import json
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

p = argparse.ArgumentParser()
p.add_argument('--batch', type=int, default=256)
p.add_argument('--steps', type=int, default=3)
p.add_argument('--seed', type=int, default=1)
p.add_argument('--threads', type=int, default=2)
p.add_argument('--channels-last', action='store_true', help='NHWC memory format (oneDNN)')
args = p.parse_args()
torch.set_num_threads(args.threads)
torch.manual_seed(args.seed)


def small_cnn():
    layers, cin = [], 1
    for cout, stride in zip([32, 32, 64, 64, 128, 128], [1, 1, 2, 1, 2, 1]):
        layers += [nn.Conv2d(cin, cout, 3, stride, 1, bias=False), nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1), nn.ReLU(inplace=True)]
        cin = cout
    encoder = nn.Sequential(*layers, nn.AdaptiveAvgPool2d(1), nn.Flatten())
    head = nn.Sequential(nn.Linear(128, 128), nn.ReLU(inplace=True), nn.Linear(128, 128))
    return nn.Sequential(encoder, head)


def nt_xent(z1, z2, tau):
    z = F.normalize(torch.cat([z1, z2]), dim=1)
    n = z.shape[0]
    sim = z @ z.t() / tau - torch.eye(n) * 1e9
    pos = (torch.arange(n) + n // 2) % n
    return F.cross_entropy(sim, pos)


model = small_cnn()
fmt = torch.channels_last if args.channels_last else torch.contiguous_format
model = model.to(memory_format=fmt)
opt = torch.optim.Adam(model.parameters(), lr=1e-3)
g = torch.Generator().manual_seed(args.seed)
batches = [tuple(torch.rand(args.batch, 1, 28, 28, generator=g).contiguous(memory_format=fmt) for _ in range(2)) for _ in range(args.steps + 1)]


def step(a, b):
    z = model(torch.cat([a, b]))
    z1, z2 = z.chunk(2)
    loss = nt_xent(z1, z2, 0.5)
    opt.zero_grad(set_to_none=True)
    loss.backward()
    opt.step()
    return loss.item()


step(*batches[0])
t0 = time.perf_counter()
for a, b in batches[1:]:
    loss = step(a, b)
dt = (time.perf_counter() - t0) / args.steps
print(json.dumps({
    'torch': torch.__version__, 'threads': torch.get_num_threads(), 'channels_last': args.channels_last, 'batch': args.batch, 'steps': args.steps,
    'step_ms': dt * 1000, 'samples_per_s': args.batch / dt, 'loss': loss,
    'params': sum(p.numel() for p in model.parameters()),
}))
