import torch

from vae.data import to_batch
from vae.model import ModelConfig, SentenceVAE
from vae.tokenizer import PAD_ID


def tiny(**kw):
    torch.manual_seed(0)
    return SentenceVAE(ModelConfig(vocab_size=30, embed_size=8, hidden_size=16, latent_size=4, **kw))


def batch():
    return to_batch([[5, 6, 7], [8, 9], [10, 11, 12, 13, 14]])


def test_batch_appends_eos_and_pads():
    tokens, lengths = batch()
    assert tokens.shape == (3, 6)
    assert lengths.tolist() == [4, 3, 6]
    assert (tokens[1, 3:] == PAD_ID).all()


def test_forward_shapes():
    out = tiny()(*batch())
    assert out["recon"].shape == (3,)
    assert out["kl"].shape == (3, 4)
    assert out["mu"].shape == out["logvar"].shape == out["z"].shape == (3, 4)


def test_padding_does_not_change_a_sentence_loss():
    model = tiny().eval()
    tokens, lengths = to_batch([[5, 6, 7]])
    alone = model.reconstruction_nll(tokens, lengths, torch.zeros(1, 4))
    tokens, lengths = to_batch([[5, 6, 7], [8, 9, 10, 11, 12, 13, 14]])
    padded = model.reconstruction_nll(tokens, lengths, torch.zeros(2, 4))[0]
    torch.testing.assert_close(alone[0], padded)


def test_encoder_ignores_padding():
    model = tiny().eval()
    mu_alone, _ = model.encode(*to_batch([[5, 6]]))
    mu_batch, _ = model.encode(*to_batch([[5, 6], [7, 8, 9, 10, 11]]))
    torch.testing.assert_close(mu_alone[0], mu_batch[0])


def test_a_forward_only_encoder_reads_the_padded_batch_as_a_packed_one():
    """The forward-only encoder runs over padding (one matmul for every step's input) and takes each
    sentence's output at its last word: the state a packed batch ends in, for a GRU and an LSTM of two layers."""
    from torch.nn.utils.rnn import pack_padded_sequence

    tokens, lengths = to_batch([[5, 6], [7, 8, 9, 10, 11], [12]])
    for rnn_type in ("gru", "lstm"):
        model = tiny(bidirectional=False, rnn_type=rnn_type, num_layers=2).train()  # train: not the fast path
        packed = pack_padded_sequence(model.embedding(tokens), lengths, batch_first=True, enforce_sorted=False)
        _, state = model.encoder(packed)
        h = state[0] if rnn_type == "lstm" else state
        expected = model.to_mu_logvar(h[-1]).chunk(2, dim=-1)[0]
        torch.testing.assert_close(model.encode(tokens, lengths)[0], expected)


def test_autoencoder_mode_has_no_kl_and_no_noise():
    model = tiny(autoencoder=True)
    out = model(*batch())
    assert (out["kl"] == 0).all()
    torch.testing.assert_close(out["z"], out["mu"])


def test_lstm_variant_learns_and_its_state_carries_z():
    model = tiny(rnn_type="lstm", num_layers=2)
    tokens, lengths = batch()
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01)
    first = model(tokens, lengths, deterministic=True)["recon"].sum()
    for _ in range(30):
        loss = model(tokens, lengths, deterministic=True)["recon"].sum()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.5 * first.item()  # a 2-layer LSTM fits three sentences
    model.eval()
    z = torch.zeros(1, 4), torch.ones(1, 4)
    with torch.no_grad():  # the decoder's output depends on z (its first state, and its every input)
        logits = [model.decoder_step(torch.tensor([2]), code, model.initial_state(code))[0] for code in z]
    assert not torch.allclose(*logits)


def test_output_layer_is_tied_to_the_embedding():
    model = tiny()
    names = [name for name, _ in model.named_parameters()]
    assert "embedding.weight" in names
    assert not any(p.shape == (30, 16) for p in model.parameters())  # no separate hidden->vocab matrix
