# Exercise 2: a solution
top = np.argsort(-att[0])[:10]
inside = [(truth["start"] <= p).to_numpy() & (p < truth["end"]).to_numpy() for p in top]
answer = float(np.mean([x.any() for x in inside]))
answer
