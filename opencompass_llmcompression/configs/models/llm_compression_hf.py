# Your model, named by an environment variable, for a run beside the anchors: OpenCompass builds
# a model from --hf-path only when no --models (and no config file) is given, so the anchors'
# command names yours this way (docs/paper_lines.md, "How to get there").
#
#   LLMCOMPRESSION_HF_PATH=MY/MODEL opencompass --models llm_compression_anchors llm_compression_hf \
#       --datasets llm_compression_folder --summarizer llm_compression
#
# LLMCOMPRESSION_HF_PATH: a hub name or a folder, or several separated by commas;
# LLMCOMPRESSION_HF_NUM_GPUS: GPUs per model (default 1; 0 on a CPU);
# LLMCOMPRESSION_HF_BATCH_SIZE: the model's batch size (--batch-size, default 8); for auto
# windows per forward pass on this plugin's corpora, LLMCOMPRESSION_BATCH_SIZE=auto.
# Each is the HuggingFaceBaseModel that `--hf-type base --hf-path` builds, abbr MODEL_hf.
# In a suite: `from opencompass_llmcompression.configs.models.llm_compression_hf import models`
# inside read_base().
models = __import__('opencompass_llmcompression.openicl.env_models', fromlist=['hf_models']).hf_models()
