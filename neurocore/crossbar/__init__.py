"""RPU crossbars: device models, noisy reads and pulse-coincidence writes (issue 3).

Importing this package imports numba; `import neurocore` alone does not.
"""

from .array import Crossbar
from .devices import DeviceArrays, device_params, device_scalars, draw_devices, init_weights
from .kernels import (MODEL_IDS, coincidence_write, coincidence_write_uniform, dac, decay_devices, device_pulse,
                      device_pulses, device_step, mvm_backward, mvm_cols, mvm_forward, mvm_rows, quantize_read,
                      quantize_value, rate_write, seed_numba, step_size, write_pulse)

__all__ = ["Crossbar", "DeviceArrays", "device_params", "device_scalars", "draw_devices", "init_weights",
           "MODEL_IDS", "coincidence_write", "coincidence_write_uniform", "dac", "decay_devices", "device_pulse",
           "device_pulses", "device_step", "mvm_backward", "mvm_cols", "mvm_forward", "mvm_rows", "quantize_read",
           "quantize_value", "rate_write", "seed_numba", "step_size", "write_pulse"]
