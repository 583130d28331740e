#!/usr/bin/python3
"""Golden reference for flowlm's alignment objectives (test/nn/alignment-losses.test.ts,
test/nn/scalar-head.test.ts): reward-model pairwise loss, DPO, PPO reward shaping, GAE, masked
whitening, the clipped PPO losses and entropy, written independently in PyTorch (float64) after the
formulas of TRL's RewardTrainer, DPOTrainer and PPOTrainer (trl 0.7: compute_rewards,
compute_advantages, masked_whiten, loss) and InstructGPT; plus sequence log-probs, DPO and reward-model
gradients through the tiny GPT of make_golden.py (same weight formula, imported from it).

Run with Debian's PyTorch (apt-get install python3-torch):
    /usr/bin/python3 test/nn/golden/make_alignment_golden.py   # writes test/nn/golden/alignment.json
"""
import json, math, os, sys
import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from make_golden import make_params, forward, head, b64  # noqa: E402

torch.set_default_dtype(torch.float64)
rng = np.random.default_rng(1414)

def arr(n, scale=1.0):
    """float32-representable values, so both sides start from the same numbers"""
    return (rng.standard_normal(n) * scale).astype(np.float32).astype(np.float64)

def t(x, grad=False):
    return torch.tensor(x, dtype=torch.float64, requires_grad=grad)

def lst(x):
    return x.detach().reshape(-1).tolist()

def masked_mean(x, m):
    return (x * m).sum() / m.sum()

def masked_var(x, m, unbiased=True):
    mean = masked_mean(x, m)
    var = masked_mean((x - mean) ** 2, m)
    if unbiased:
        var = var * m.sum() / (m.sum() - 1)
    return var

def masked_whiten(x, m, shift_mean=True):
    mean, var = masked_mean(x, m), masked_var(x, m)
    w = (x - mean) * torch.rsqrt(var + 1e-8)
    return w if shift_mean else w + mean

def reward_case():
    n = 6
    c, r = t(arr(n), True), t(arr(n), True)
    margin = np.abs(arr(n, 0.5))
    out = {'chosen': lst(c), 'rejected': lst(r), 'margin': margin.tolist()}
    for key, m in (('plain', 0.0), ('with_margin', t(margin))):
        c.grad = r.grad = None
        loss = -F.logsigmoid(c - r - m).mean()
        loss.backward()
        out[key] = {'loss': loss.item(), 'grad_chosen': lst(c.grad), 'grad_rejected': lst(r.grad)}
    out['accuracy'] = (c > r).double().mean().item()
    return out

def dpo_case():
    n = 5
    pc, pr = t(arr(n, 3.0) - 20, True), t(arr(n, 3.0) - 22, True)
    rc, rr = t(arr(n, 3.0) - 20), t(arr(n, 3.0) - 22)
    out = {'policy_chosen': lst(pc), 'policy_rejected': lst(pr), 'ref_chosen': lst(rc), 'ref_rejected': lst(rr),
           'cases': []}
    for beta, eps in ((0.1, 0.0), (0.5, 0.0), (0.1, 0.2)):
        pc.grad = pr.grad = None
        logits = (pc - pr) - (rc - rr)
        losses = -F.logsigmoid(beta * logits) * (1 - eps) - F.logsigmoid(-beta * logits) * eps
        loss = losses.mean()
        loss.backward()
        ch, rj = beta * (pc - rc).detach(), beta * (pr - rr).detach()
        out['cases'].append({'beta': beta, 'label_smoothing': eps, 'loss': loss.item(),
                             'rewards_chosen': lst(ch), 'rewards_rejected': lst(rj),
                             'reward_accuracy': (ch > rj).double().mean().item(),
                             'reward_margin': (ch - rj).mean().item(),
                             'grad_policy_chosen': lst(pc.grad), 'grad_policy_rejected': lst(pr.grad)})
    return out

def ppo_case():
    B, T = 3, 6
    lengths = [6, 4, 2]
    mask = torch.zeros(B, T)
    for b, L in enumerate(lengths): mask[b, :L] = 1
    scores = t(arr(B))
    logprobs = t(arr(B * T, 0.5).reshape(B, T) - 2) * mask
    ref_logprobs = t(arr(B * T, 0.5).reshape(B, T) - 2) * mask
    kl_coef = 0.2
    # compute_rewards: -kl_coef * (logp - ref) per token, the score added at the last real token
    kl = (logprobs - ref_logprobs) * mask
    non_score = -kl_coef * kl
    rewards = non_score.clone()
    for b in range(B):
        rewards[b, mask[b].nonzero()[-1]] += scores[b]
    values = t(arr(B * T, 0.5).reshape(B, T))
    gamma, lam = 0.99, 0.95
    # compute_advantages
    v, r = values * mask, rewards * mask
    last, rev = 0.0, []
    for s in reversed(range(T)):
        nxt = v[:, s + 1] if s < T - 1 else 0.0
        delta = r[:, s] + gamma * nxt - v[:, s]
        last = delta + gamma * lam * last
        rev.append(last)
    adv = torch.stack(rev[::-1]).transpose(0, 1)
    returns = adv + v
    whitened = masked_whiten(adv, mask)
    # loss: a new policy and value prediction around the rollout's, some inside and some outside the clip
    new_logprobs = t((logprobs.detach() + t(arr(B * T, 0.3).reshape(B, T))).numpy(), True)
    vpreds = t((values + t(arr(B * T, 0.3).reshape(B, T))).detach().numpy(), True)
    cliprange, cliprange_value, vf_coef = 0.2, 0.2, 0.1
    vclip = torch.clamp(vpreds, values - cliprange_value, values + cliprange_value)
    vf1, vf2 = (vpreds - returns) ** 2, (vclip - returns) ** 2
    vf_loss = 0.5 * masked_mean(torch.max(vf1, vf2), mask)
    ratio = torch.exp(new_logprobs - logprobs)
    pg1 = -whitened * ratio
    pg2 = -whitened * torch.clamp(ratio, 1 - cliprange, 1 + cliprange)
    pg_loss = masked_mean(torch.max(pg1, pg2), mask)
    loss = pg_loss + vf_coef * vf_loss
    loss.backward()
    logits = t(arr(B * T * 7, 2.0).reshape(B * T, 7))
    ent = torch.logsumexp(logits, -1) - (F.softmax(logits, -1) * logits).sum(-1)
    # the adaptive KL controller over three updates (trl AdaptiveKLController)
    kl_value, kl_steps = 0.2, []
    for current, n in ((3.0, 8), (9.0, 8), (6.1, 16)):
        err = float(np.clip(current / 6.0 - 1, -0.2, 0.2))
        kl_value *= 1 + err * n / 10000
        kl_steps.append({'current': current, 'n_steps': n, 'value': kl_value})
    return {
        'B': B, 'T': T, 'mask': lst(mask), 'scores': lst(scores), 'logprobs': lst(logprobs),
        'ref_logprobs': lst(ref_logprobs), 'kl_coef': kl_coef, 'rewards': lst(rewards), 'non_score': lst(non_score),
        'values': lst(values), 'gamma': gamma, 'lambda': lam, 'advantages': lst(adv), 'returns': lst(returns),
        'whitened': lst(whitened), 'whitened_no_shift': lst(masked_whiten(adv, mask, False)),
        'new_logprobs': lst(new_logprobs), 'vpreds': lst(vpreds),
        'cliprange': cliprange, 'cliprange_value': cliprange_value, 'vf_coef': vf_coef,
        'pg_loss': pg_loss.item(), 'vf_loss': vf_loss.item(), 'loss': loss.item(),
        'pg_clipfrac': masked_mean(torch.gt(pg2, pg1).double(), mask).item(),
        'vf_clipfrac': masked_mean(torch.gt(vf2, vf1).double(), mask).item(),
        'approx_kl': (0.5 * masked_mean((new_logprobs - logprobs) ** 2, mask)).item(),
        'policy_kl': masked_mean(logprobs - new_logprobs, mask).item(),
        'ratio': masked_mean(ratio, mask).item(),
        'grad_logprobs': lst(new_logprobs.grad), 'grad_vpreds': lst(vpreds.grad),
        'entropy_logits': lst(logits), 'entropy': lst(ent),
        'kl_controller': {'init': 0.2, 'target': 6.0, 'horizon': 10000, 'steps': kl_steps},
    }

def model_case():
    c = {'vocabSize': 64, 'contextLength': 16, 'nLayer': 2, 'nHead': 2, 'dModel': 16, 'mlpRatio': 4,
         'positions': 'learned', 'norm': 'pre', 'causal': True, 'docMasking': False, 'tiedHead': True}
    B, T, d = 4, 10, c['dModel']
    ids = rng.integers(0, 64, size=(B, T + 1))
    # rows 0/1 and 2/3 are chosen/rejected pairs; prompt lengths and real lengths per row (right padding)
    prompt = [4, 4, 3, 3]
    length = [11, 8, 9, 11]
    attn = np.zeros((B, T + 1), dtype=np.int64)
    resp = np.zeros((B, T + 1), dtype=np.int64)
    for b in range(B):
        attn[b, :length[b]] = 1
        resp[b, prompt[b]:length[b]] = 1
        ids[b, length[b]:] = 0
    P = make_params(c)
    score_w = t(arr(d, 0.1).reshape(d, 1), True)
    score_b = t(arr(1, 0.1), True)
    x, y = torch.tensor(ids[:, :-1]), torch.tensor(ids[:, 1:])
    h = forward(P, c, x, None)
    lsm = F.log_softmax(h @ head(P, c).T, -1)
    w = torch.tensor(resp[:, 1:] * attn[:, 1:], dtype=torch.float64)
    tok = lsm.gather(-1, y[..., None])[..., 0] * w
    ent = -(lsm.exp() * lsm).sum(-1) * w
    sums = tok.sum(-1)
    ref = t([-30.5, -28.25, -25.0, -33.75])
    beta = 0.1
    z = (sums[0] - sums[1]) - (ref[0] - ref[1]), (sums[2] - sums[3]) - (ref[2] - ref[3])
    dpo = -(F.logsigmoid(beta * z[0]) + F.logsigmoid(beta * z[1])) / 2
    dpo.backward()
    dpo_grads = {n: b64(p.grad) for n, p in P.items()}
    # reward model: the score head at each row's last real input position (x = row[:-1] holds tokens up to length - 2)
    P = make_params(c)
    h = forward(P, c, x, None)
    last = [min(L, T) - 1 for L in length]
    scores = torch.stack([(h[b, last[b]] @ score_w)[0] + score_b[0] for b in range(B)])
    margin = t([0.0, 0.5])
    rloss = -F.logsigmoid(scores[[0, 2]] - scores[[1, 3]] - margin).mean()
    rloss.backward()
    values = (h @ score_w)[..., 0] + score_b[0]
    return {'config': c, 'input_ids': ids.tolist(), 'attention_mask': attn.tolist(), 'response_mask': resp.tolist(),
            'token_logprobs': lst(tok), 'entropy': lst(ent), 'sums': lst(sums), 'ref_logprobs': lst(ref), 'beta': beta,
            'dpo_loss': dpo.item(), 'dpo_grads': dpo_grads,
            'head_weight': lst(score_w), 'head_bias': lst(score_b), 'last_index': last, 'scores': lst(scores),
            'margin': lst(margin), 'reward_loss': rloss.item(),
            'reward_grads': {**{n: b64(p.grad) for n, p in P.items()}, 'score.weight': b64(score_w.grad),
                             'score.bias': b64(score_b.grad)},
            'values': lst(values)}

def main():
    out = {'generator': 'test/nn/golden/make_alignment_golden.py', 'torch': torch.__version__, 'dtype': 'float64',
           'reward': reward_case(), 'dpo': dpo_case(), 'ppo': ppo_case(), 'model': model_case()}
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'alignment.json')
    with open(path + '.tmp', 'w') as f:
        json.dump(out, f, indent=1)
    os.replace(path + '.tmp', path)
    print(f'wrote {path}: {os.path.getsize(path)} bytes', file=sys.stderr)

if __name__ == '__main__':
    main()
