// The corpus the search tier ranks: short restaurant reviews.
export const REVIEWS = [
  'Great lunch, the best ramen I have had. Fast and friendly service.',
  'Terrible service, slow and rude. The ramen was cold.',
  'I love the bento boxes here, fresh and wonderful every time.',
  'The bento was bland and the rice was awful. Never again.',
  'Excellent sushi, amazing fish, I recommend the lunch menu.',
  'Waited an hour for cold sushi. Disappointing and overpriced.',
  'Nice place, pleasant staff, perfect for a quick lunch.',
  'The worst curry I have eaten, greasy and bad.',
  'Delightful tempura and superb miso soup. Loved it.',
  'Slow kitchen, rude waiter, dirty tables. Avoid.',
  'Happy with the bento, good value and fast.',
  'Horrible ramen, salty broth and soggy noodles.',
]
