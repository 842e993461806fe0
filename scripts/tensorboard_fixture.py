"""Reference TensorBoard event file for rewarm's writer (crates/rewarm/tests/fixtures/tensorboard):
scalars written by torch.utils.tensorboard.SummaryWriter with fixed wall times, so the test can
compare rewarm's records with these byte for byte (all but the first, whose wall time is the
moment of creation), and the same values read back with tensorboard's own EventAccumulator."""
import glob
import json
import os
import shutil
import sys

import numpy as np

from torch.utils.tensorboard import SummaryWriter
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

out = os.path.join(sys.argv[1], "tensorboard")
shutil.rmtree(out, ignore_errors=True)
os.makedirs(out)
# (step, wall time, tag, value): what the trainer logs, zeros and negatives included.
SCALARS = [
    (1, 1700000000.25, "train/loss", 10.8125),
    (1, 1700000000.25, "train/lr", 0.0),
    (1, 1700000000.25, "train/grad_norm", 3.5),
    (2, 1700000001.5, "train/loss", 9.75),
    (2, 1700000001.5, "train/lr", 3e-4),
    (2, 1700000001.5, "eval/upstream/loss", 9.5),
    (2, 1700000001.5, "eval/upstream/perplexity", 13359.7265625),
    (0, 1700000002.0, "train/tokens_per_second", -1.0),
]
w = SummaryWriter(out)
for step, wall, tag, value in SCALARS:
    w.add_scalar(tag, value, global_step=step, walltime=wall)
w.close()
(path,) = glob.glob(os.path.join(out, "events.out.tfevents.*"))
os.rename(path, os.path.join(out, "reference.tfevents"))
acc = EventAccumulator(os.path.join(out, "reference.tfevents"))
acc.Reload()
read = sorted((e.step, e.wall_time, tag, e.value) for tag in acc.Tags()["scalars"] for e in acc.Scalars(tag))
# Values are stored as float32.
assert read == sorted((s, t, g, float(np.float32(v))) for s, t, g, v in SCALARS), read
json.dump([{"step": s, "wall_time": t, "tag": g, "value": v} for s, t, g, v in SCALARS],
          open(os.path.join(out, "scalars.json"), "w"), indent=1)
