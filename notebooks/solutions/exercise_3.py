# Exercise 3: a solution
effects = dv.ism(model, seq)[0, : len(seq)]
position, column = np.unravel_index(np.argmin(effects), effects.shape)
answer = (int(position), "ACGT"[column])
answer
