"""lm-evaluation-harness task configs over local JSON-lines files, in the conventions
`rewarm eval --task` reads (shared by scripts/hf_check.py and scripts/rewarm_task_fixtures.py)."""
import os


def write_yaml(folder, name, jsonl, kind):
    """Writes FOLDER/NAME.yaml: a task NAME over the JSON-lines file `jsonl`, `kind` being
    "choice" (query, choices, gold: acc and acc_norm) or "lastword" (text, scored as
    lm-eval's lambada_openai: acc and perplexity)."""
    head = f"""task: {name}
dataset_path: json
dataset_kwargs:
  data_files:
    test: {os.path.abspath(jsonl)}
test_split: test
"""
    if kind == "choice":
        body = """output_type: multiple_choice
doc_to_text: "{{query}}"
doc_to_choice: "{{choices}}"
doc_to_target: "{{gold}}"
metric_list:
  - metric: acc
    aggregation: mean
    higher_is_better: true
  - metric: acc_norm
    aggregation: mean
    higher_is_better: true
"""
    else:
        body = """output_type: loglikelihood
doc_to_text: "{{text.split(' ')[:-1]|join(' ')}}"
doc_to_target: "{{' '+text.split(' ')[-1]}}"
target_delimiter: ""
metric_list:
  - metric: perplexity
    aggregation: perplexity
    higher_is_better: false
  - metric: acc
    aggregation: mean
    higher_is_better: true
"""
    with open(os.path.join(folder, f"{name}.yaml"), "w") as f:
        f.write(head + body)


def evaluate(model, folder, names, **kw):
    """`lm_eval.simple_evaluate` of each task in `names` (configs in `folder`) on `model`, one
    task a call: evaluated together, lm-eval 0.4.13 gives requests of different tasks whose
    context + continuation is the same text split elsewhere ("... past the" + " old stone
    bridge", "... past the old stone" + " bridge") one shared result. Returns the results by
    task."""
    import lm_eval
    from lm_eval.tasks import TaskManager
    tm = TaskManager(include_path=folder)
    out = {}
    for name in names:
        out.update(lm_eval.simple_evaluate(model=model, tasks=[name], task_manager=tm,
                                           batch_size=1, **kw)["results"])
    return out
