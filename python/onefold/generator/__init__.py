"""Demo-data generator: a realistic, noisy multi-source warehouse with its ground truth.

`generate_demo_data(warehouse, GeneratorConfig(persons=..., seed=..., end_date=...))`
writes nine raw source tables into `raw` and the truth (record owners, persons, noise
log, run parameters) into `raw_truth`. Same config, same bytes.
"""

from onefold.generator.config import GENERATOR_VERSION, GeneratorConfig, NoiseRates, Participation
from onefold.generator.run import (
    Generated,
    GenerationReport,
    Simulation,
    generate,
    generate_demo_data,
)

__all__ = [
    "GENERATOR_VERSION",
    "Generated",
    "GenerationReport",
    "GeneratorConfig",
    "NoiseRates",
    "Participation",
    "Simulation",
    "generate",
    "generate_demo_data",
]
