"""The heads of the natively built BERT-layout families (DNABERT-2, GENA-LM), written once.

Each model class of a family mixes one of these in before its
``PreTrainedModel`` base and builds its encoder as ``self.bert`` (whose
output has ``last_hidden_state``, ``pooler_output``, ``hidden_states`` and
``attentions``); the masked LM builds ``self.cls.predictions`` too (the
published names).
"""

from __future__ import annotations

from torch import nn
from torch.nn import functional as F
from transformers.modeling_outputs import MaskedLMOutput, SequenceClassifierOutput


class MaskedLmHead:
    """``forward``: the encoder, then ``cls.predictions`` on every token."""

    def get_input_embeddings(self) -> nn.Embedding:
        return self.bert.embeddings.word_embeddings

    def forward(
        self, input_ids=None, attention_mask=None, labels=None, **kwargs
    ) -> MaskedLMOutput:
        """Token logits (B, T, vocab); with ``labels`` (B, T, -100 = ignored) the masked-LM loss
        too."""
        out = self.bert(input_ids, attention_mask, **kwargs)
        logits = self.cls.predictions(out.last_hidden_state)
        loss = None if labels is None else F.cross_entropy(logits.flatten(0, 1), labels.flatten())
        return MaskedLMOutput(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )


class ClassifierHead:
    """The pooled first token, dropout, ``classifier`` (built by :meth:`add_classifier`)."""

    def add_classifier(self, config) -> None:
        """Build ``dropout`` (``classifier_dropout``, else ``hidden_dropout_prob``) and
        ``classifier`` (hidden size -> ``num_labels``)."""
        self.num_labels = config.num_labels
        p = (
            config.classifier_dropout
            if config.classifier_dropout is not None
            else config.hidden_dropout_prob
        )
        self.dropout = nn.Dropout(p)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)

    def get_input_embeddings(self) -> nn.Embedding:
        return self.bert.embeddings.word_embeddings

    def forward(
        self, input_ids=None, attention_mask=None, labels=None, **kwargs
    ) -> SequenceClassifierOutput:
        """Class logits (B, n_classes); with integer ``labels`` (B,) the cross-entropy loss too."""
        out = self.bert(input_ids, attention_mask, **kwargs)
        logits = self.classifier(self.dropout(out.pooler_output))
        loss = None if labels is None else F.cross_entropy(logits, labels)
        return SequenceClassifierOutput(
            loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions
        )
