# The anchors: models of "Compression Represents Intelligence Linearly" (Huang et al., 2024,
# arXiv 2404.09937v2) whose benchmark scores its Appendix B publishes (Tables 4, 6, 8: 31
# models). Measured on your corpora beside your own models, at least four of them anchor each
# corpus's own line: the paper's scores against this BPC (docs/paper_lines.md, "Fresh text").
#
#   LLMCOMPRESSION_HF_PATH=MY/MODEL opencompass --models llm_compression_anchors llm_compression_hf \
#       --datasets ... --summarizer llm_compression
#   (after `llmcompression-configs install`; OpenCompass ignores --hf-path beside --models, so
#   your model comes from llm_compression_hf or a model config of yours), or in a suite:
#   with read_base():
#       from opencompass_llmcompression.configs.models.llm_compression_anchors import models
#
# `models` is the cheap set: 14 models of 1.3B to 13B (OpenCompass's Llama-2-13b config asks 2
# GPUs, the others 1), spanning the paper's range
# on each corpus: knowledge (cc) 0.581-0.649 over 8 anchors, coding (python) 0.262-0.393 over
# 12, mathematics (arxiv_math) 0.420-0.541 over 9 (the 17 larger ones reach 0.527, 0.225 and
# 0.394). `all_anchor_models` is every one of the 31 with public weights, up to 72B. Cost at the
# paper's window: about 0.15 GPU-hours per billion parameters per 100 M characters (an estimate;
# docs/paper_lines.md, "What it costs").
#
# OpenCompass's own configs where it ships one (its `abbr` renamed where the paper's name would
# not match: huggyllama's Llama are the paper's Llama-1, deepseek-7b-base its Deepseek-llm-7b);
# plain HuggingFaceBaseModel configs for the rest. The report recognises a model by its abbr:
# keep the paper's name in it.
from mmengine.config import read_base
from opencompass.models import HuggingFaceBaseModel

with read_base():
    from opencompass.configs.models.codellama.hf_codellama_7b import models as _codellama_7b
    from opencompass.configs.models.codellama.hf_codellama_13b import models as _codellama_13b
    from opencompass.configs.models.codellama.hf_codellama_34b import models as _codellama_34b
    from opencompass.configs.models.deepseek.hf_deepseek_7b_base import models as _deepseek_llm_7b
    from opencompass.configs.models.deepseek.hf_deepseek_67b_base import models as _deepseek_llm_67b
    from opencompass.configs.models.falcon.hf_falcon_7b import models as _falcon_7b
    from opencompass.configs.models.falcon.hf_falcon_40b import models as _falcon_40b
    from opencompass.configs.models.hf_llama.hf_llama2_7b import models as _llama2_7b
    from opencompass.configs.models.hf_llama.hf_llama2_13b import models as _llama2_13b
    from opencompass.configs.models.hf_llama.hf_llama2_70b import models as _llama2_70b
    from opencompass.configs.models.hf_llama.hf_llama_7b import models as _llama_7b
    from opencompass.configs.models.hf_llama.hf_llama_13b import models as _llama_13b
    from opencompass.configs.models.hf_llama.hf_llama_30b import models as _llama_30b
    from opencompass.configs.models.hf_llama.hf_llama_65b import models as _llama_65b
    from opencompass.configs.models.mistral.hf_mistral_7b_v0_1 import models as _mistral_7b
    from opencompass.configs.models.mistral.hf_mixtral_8x7b_v0_1 import models as _mixtral_8x7b
    from opencompass.configs.models.qwen.hf_qwen_7b import models as _qwen_7b
    from opencompass.configs.models.qwen.hf_qwen_14b import models as _qwen_14b
    from opencompass.configs.models.qwen.hf_qwen_72b import models as _qwen_72b
    from opencompass.configs.models.yi.hf_yi_6b import models as _yi_6b
    from opencompass.configs.models.yi.hf_yi_34b import models as _yi_34b

# The paper's models OpenCompass ships no config for: the base models as published on the hub.
_plain = {
    'deepseek-coder-1.3b-base': ('deepseek-ai/deepseek-coder-1.3b-base', 1),
    'deepseek-coder-6.7b-base': ('deepseek-ai/deepseek-coder-6.7b-base', 1),
    'deepseek-coder-33b-base': ('deepseek-ai/deepseek-coder-33b-base', 2),
    'starcoder2-7b': ('bigcode/starcoder2-7b', 1),
    'starcoder2-15b': ('bigcode/starcoder2-15b', 1),
    'starcoderbase': ('bigcode/starcoderbase', 1),
    'llemma-7b': ('EleutherAI/llemma_7b', 1),
    'llemma-34b': ('EleutherAI/llemma_34b', 2),
    'deepseek-math-7b-base': ('deepseek-ai/deepseek-math-7b-base', 1),
    'jamba-52b': ('ai21labs/Jamba-v0.1', 4),
}
_hub = {
    abbr: dict(
        type=HuggingFaceBaseModel,
        abbr=abbr,
        path=path,
        max_out_len=1024,
        batch_size=8,
        run_cfg=dict(num_gpus=gpus),
    )
    for abbr, (path, gpus) in _plain.items()
}

models = [
    *_falcon_7b,
    dict(_llama_7b[0], abbr='llama-1-7b-hf'),
    *_llama2_7b,
    *_mistral_7b,
    *_qwen_7b,
    *_yi_6b,
    dict(_deepseek_llm_7b[0], abbr='deepseek-llm-7b-base-hf'),
    *_llama2_13b,
    _hub['deepseek-coder-1.3b-base'],
    _hub['deepseek-coder-6.7b-base'],
    *_codellama_7b,
    _hub['starcoder2-7b'],
    _hub['llemma-7b'],
    _hub['deepseek-math-7b-base'],
]

all_anchor_models = models + [
    dict(_llama_13b[0], abbr='llama-1-13b-hf'),
    *_qwen_14b,
    *_codellama_13b,
    _hub['starcoder2-15b'],
    _hub['starcoderbase'],
    dict(_llama_30b[0], abbr='llama-1-30b-hf'),
    *_codellama_34b,
    _hub['deepseek-coder-33b-base'],
    _hub['llemma-34b'],
    *_yi_34b,
    *_falcon_40b,
    _hub['jamba-52b'],
    dict(_llama_65b[0], abbr='llama-1-65b-hf'),
    dict(_deepseek_llm_67b[0], abbr='deepseek-llm-67b-base-hf'),
    *_llama2_70b,
    *_mixtral_8x7b,
    *_qwen_72b,
]
