"""Predict what a run, and a whole sweep, will cost before anyone runs it.

`fit_cost_model` (model.py) fits first-principles features (features.py) on measured runs, one
platform at a time (platform_fit.py, with scipy's robust least squares: solver.py),
`cross_validate` (cross_validation.py) gives honest out-of-sample errors, `estimate_sweep`
(sweep_estimate.py) predicts every run of a sweep YAML, and `report_section` (report_section.py) is the
section that `timing_trainer.commands.analyze` adds to the analysis's report. `usable_runs` (selection.py)
decides, and counts, which runs a fit may use; extrapolation.py tells how far a request lies
outside them; `CostModelError` (timing_trainer.errors) is what the library raises when it cannot answer.
Energy is a second response of the same fit (response.py, energy.py: `fit_energy`),
sweep_costs.py turns a sweep's hours and kWh into money and emissions, and sweep_text.py prints
the estimate (`format_estimate`). A sweep's runs become table rows in sweep_rows.py, with their
data sizes read from the sweep's data (data_size.py) and their modes (LoRA, torch.compile, the
attention kernel, padding-free), which modes.py turns into LoRA's arithmetic and efficiency
effects; trust.py withholds a total that lies wholly beyond the fitted runs.
Torch-free: pandas, numpy and the project's tables only.
"""
